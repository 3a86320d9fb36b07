package dev.modelgate.plugins.ratelimit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.modelgate.kernel.MetricsRegistry;
import dev.modelgate.kernel.testing.BuiltPlugin;
import dev.modelgate.plugins.ratelimit.Decision.Verdict;
import dev.modelgate.plugins.ratelimit.Limit.Algorithm;
import dev.modelgate.plugins.ratelimit.RedisLimiter.FailurePolicy;
import dev.modelgate.spi.Metrics;
import dev.modelgate.spi.PhasedMiddleware;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.JedisPooled;

/** The Redis store against a real {@code redis-server}, stopped, restarted and paused as the tests need. */
class RedisLimiterTest {

    private static final Duration TIMEOUT = Duration.ofMillis(50);
    private static final Duration BACKOFF = Duration.ofSeconds(1);

    @RegisterExtension
    static final RedisServerExtension REDIS = new RedisServerExtension();

    /** The backoff's time source, moved by hand. */
    private final AtomicLong nanoTime = new AtomicLong();
    private final MetricsRegistry metrics = new MetricsRegistry();
    private final List<RedisLimiter> opened = new ArrayList<>();

    @AfterEach
    void closeLimiters() {
        opened.forEach(RedisLimiter::close);
    }

    private RedisLimiter limiter(FailurePolicy policy, Limit... limits) {
        return limiter(TIMEOUT, 8, policy, limits);
    }

    private RedisLimiter limiter(Duration timeout, int poolSize, FailurePolicy policy, Limit... limits) {
        RedisLimiter limiter = new RedisLimiter(
                new RedisLimiter.Settings(URI.create(REDIS.server().url()), timeout, poolSize, BACKOFF, policy, "test:"),
                List.of(limits), new LocalLimiter(List.of(limits), System::nanoTime, 1000), nanoTime::get,
                counter("failures"), counter("fallbacks"), System.getLogger("test"));
        opened.add(limiter);
        return limiter;
    }

    private Metrics.Counter counter(String name) {
        return metrics.counter("test_" + name + "_total", name, Map.of());
    }

    private static Limit tokenBucket(int rate, Duration period, int burst) {
        return new Limit(Algorithm.TOKEN_BUCKET, rate, period, burst);
    }

    /** A limiter under {@code policy} of one request a minute after a {@code burst}, on a Redis then stopped. */
    private RedisLimiter limiterWithRedisDown(FailurePolicy policy, int burst) {
        RedisLimiter limiter = limiter(policy, tokenBucket(1, Duration.ofMinutes(1), burst));
        REDIS.server().stop();
        return limiter;
    }

    /**
     * {@code decide} timed: the verdict, after checking it came within the Redis timeout plus slack: generous for a
     * loaded machine, yet below the 2 s a Redis client waits by default, which is what a lost timeout would show.
     */
    private static Verdict decidedPromptly(Limiter limiter, String key) {
        long start = System.nanoTime();
        Verdict verdict = limiter.decide(key).verdict();
        long tookMillis = (System.nanoTime() - start) / 1_000_000;
        assertTrue(tookMillis < TIMEOUT.toMillis() + 1_450, "took " + tookMillis + "ms");
        return verdict;
    }

    /** Five decisions on one key, each within the Redis timeout plus slack and each {@code expected}. */
    private static void assertFiveDecidedPromptlyAs(Verdict expected, Limiter limiter) {
        for (int i = 0; i < 5; i++) {
            assertEquals(expected, decidedPromptly(limiter, "k"), "decision " + (i + 1));
        }
    }

    @Test
    void manyThreadsOnOneKeyGetNoMoreThanBurstPlusRateTimesElapsed() throws Exception {
        // What is checked is the count, not latency: a timeout that a cold JVM on a busy machine cannot miss.
        RedisLimiter limiter = limiter(Duration.ofSeconds(5), 16, FailurePolicy.FAIL_CLOSED,
                tokenBucket(200, Duration.ofSeconds(1), 20));
        AtomicInteger admitted = new AtomicInteger();
        AtomicInteger undecided = new AtomicInteger();
        long start = System.nanoTime();
        try (ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < 64; t++) {
                done.add(threads.submit(() -> {
                    for (int i = 0; i < 40; i++) {
                        switch (limiter.decide("k").verdict()) {
                            case ALLOWED -> admitted.incrementAndGet();
                            case DENIED -> { }
                            default -> undecided.incrementAndGet();
                        }
                    }
                }));
            }
            for (Future<?> future : done) {
                future.get();
            }
        }
        double elapsedSeconds = (System.nanoTime() - start) / 1e9;

        assertEquals(0, undecided.get(), "Redis failed to decide");
        double bound = 20 + 200 * elapsedSeconds;
        assertTrue(admitted.get() <= bound, admitted.get() + " admitted in " + elapsedSeconds + "s, bound " + bound);
        assertTrue(admitted.get() >= 20, "fewer than the burst: " + admitted.get());
    }

    @Test
    void concurrentDecisionsShareScriptCallsYetEachKeyIsDecidedAsIfAlone() throws Exception {
        RedisLimiter limiter = limiter(Duration.ofSeconds(5), 1, FailurePolicy.FAIL_CLOSED,
                tokenBucket(1, Duration.ofHours(1), 3));
        List<Verdict> expected = List.of(Verdict.ALLOWED, Verdict.ALLOWED, Verdict.ALLOWED, Verdict.DENIED,
                Verdict.DENIED);
        int keys = 64;
        long callsBefore = scriptCalls();
        try (ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<List<Verdict>>> verdicts = new ArrayList<>();
            for (int k = 0; k < keys; k++) {
                String key = "key-" + k;
                verdicts.add(threads.submit(() -> {
                    List<Verdict> seen = new ArrayList<>();
                    for (int i = 0; i < expected.size(); i++) {
                        seen.add(limiter.decide(key).verdict());
                    }
                    return seen;
                }));
            }
            for (Future<List<Verdict>> future : verdicts) {
                assertEquals(expected, future.get());
            }
        }
        long calls = scriptCalls() - callsBefore;

        int decisions = keys * expected.size();
        assertTrue(calls < decisions, calls + " script calls for " + decisions + " decisions on one connection");
    }

    /** How many times Redis ran a script so far, by EVALSHA or EVAL. */
    private static long scriptCalls() {
        try (Jedis client = new Jedis(URI.create(REDIS.server().url()))) {
            return client.info("commandstats").lines()
                    .filter(line -> line.startsWith("cmdstat_evalsha:") || line.startsWith("cmdstat_eval:"))
                    .mapToLong(line -> Long.parseLong(line.replaceFirst(".*:calls=(\\d+),.*", "$1")))
                    .sum();
        }
    }

    @Test
    void keepsTokensAndTheLastRefillTogetherInOneHashThatExpiresWhenFullAgain() {
        RedisLimiter limiter = limiter(FailurePolicy.FAIL_CLOSED, tokenBucket(1, Duration.ofMinutes(1), 10));
        limiter.decide("alice");
        limiter.decide("alice");

        try (JedisPooled client = new JedisPooled(URI.create(REDIS.server().url()))) {
            String key = "test:{alice}:0:tb:1:60000ms:10";
            Map<String, String> state = client.hgetAll(key);
            assertEquals(8.0, Double.parseDouble(state.get("tokens")), 0.01);
            List<?> time = (List<?>) client.eval("return redis.call('TIME')");
            long serverMicros = Long.parseLong(time.get(0).toString()) * 1_000_000
                    + Long.parseLong(time.get(1).toString());
            long lastRefill = Long.parseLong(state.get("ts"));
            assertTrue(serverMicros - lastRefill >= 0 && serverMicros - lastRefill < 5_000_000,
                    "ts is Redis's clock in microseconds: " + lastRefill + " vs " + serverMicros);
            long ttl = client.pttl(key);
            assertTrue(ttl > 115_000 && ttl <= 120_000, "expires when two tokens are back: " + ttl + "ms");
        }
    }

    @Test
    void aRestartedRedisWithAnEmptyScriptCacheDecidesTheVeryNextRequest() throws Exception {
        RedisLimiter limiter = limiter(FailurePolicy.FAIL_CLOSED, tokenBucket(1, Duration.ofMinutes(1), 3));
        assertEquals(Verdict.ALLOWED, limiter.decide("k").verdict());

        REDIS.server().stop();
        REDIS.server().startAgain();

        assertEquals(Verdict.ALLOWED, limiter.decide("k").verdict());
        assertEquals(Verdict.ALLOWED, limiter.decide("k").verdict());
        assertEquals(Verdict.ALLOWED, limiter.decide("k").verdict(), "the restart emptied the data set too");
        assertEquals(Verdict.DENIED, limiter.decide("k").verdict());
        assertEquals(0, counter("failures").value());
    }

    @Test
    void failOpenLetsRequestsOnUncountedWhileRedisIsDownAndCountsThem() {
        RedisLimiter limiter = limiterWithRedisDown(FailurePolicy.FAIL_OPEN, 1);

        assertFiveDecidedPromptlyAs(Verdict.UNCHECKED, limiter);
        assertEquals(1, counter("failures").value(), "within the backoff, Redis is not tried again");
        assertEquals(5, counter("fallbacks").value());
    }

    @Test
    void failClosedRefusesRequestsWhileRedisIsDown() {
        RedisLimiter limiter = limiterWithRedisDown(FailurePolicy.FAIL_CLOSED, 1);

        assertFiveDecidedPromptlyAs(Verdict.UNAVAILABLE, limiter);
    }

    @Test
    void localFallsBackToThisInstancesOwnLimitWhileRedisIsDown() {
        RedisLimiter limiter = limiterWithRedisDown(FailurePolicy.LOCAL, 2);

        assertEquals(Verdict.ALLOWED, decidedPromptly(limiter, "k"));
        assertEquals(Verdict.ALLOWED, decidedPromptly(limiter, "k"));
        assertEquals(Verdict.DENIED, decidedPromptly(limiter, "k"));
        assertEquals(Verdict.ALLOWED, decidedPromptly(limiter, "other"));
    }

    @Test
    void afterTheBackoffOneRequestTriesRedisAgainAndRecoveryIsAutomatic() throws Exception {
        RedisLimiter limiter = limiterWithRedisDown(FailurePolicy.FAIL_OPEN, 5);
        assertEquals(Verdict.UNCHECKED, limiter.decide("k").verdict());
        nanoTime.addAndGet(BACKOFF.toNanos());
        assertEquals(Verdict.UNCHECKED, limiter.decide("k").verdict());
        assertEquals(2, counter("failures").value());

        REDIS.server().startAgain();
        assertEquals(Verdict.UNCHECKED, limiter.decide("k").verdict(), "still backing off");
        nanoTime.addAndGet(BACKOFF.toNanos());

        assertEquals(Verdict.ALLOWED, limiter.decide("k").verdict());
        assertEquals(Verdict.ALLOWED, limiter.decide("k").verdict(), "back to normal, no more backoff");
        assertEquals(2, counter("failures").value());
    }

    @Test
    void aTimeoutIsAnsweredByPolicyWithinTheTimeoutAndNeverRetried() {
        RedisLimiter limiter = limiter(FailurePolicy.FAIL_CLOSED, tokenBucket(1, Duration.ofHours(1), 5));
        assertEquals(Verdict.ALLOWED, limiter.decide("warm-up").verdict());
        assertEquals("+OK", REDIS.server().command("CLIENT PAUSE 500 ALL"));

        assertEquals(Verdict.UNAVAILABLE, decidedPromptly(limiter, "k"));

        // Blocks until the pause ends, after the timed-out script ran (or was dropped with its connection).
        assertEquals("+PONG", REDIS.server().command("PING"));
        nanoTime.addAndGet(BACKOFF.toNanos());
        int admitted = 0;
        while (limiter.decide("k").verdict() == Verdict.ALLOWED) {
            admitted++;
        }
        assertTrue(admitted >= 4, "the timed-out request was charged more than once: " + admitted + " left of 5");
    }

    @Test
    void limitersSharingOneRedisShareOneLimit() {
        Limit limit = tokenBucket(1, Duration.ofMinutes(1), 4);
        RedisLimiter first = limiter(FailurePolicy.FAIL_CLOSED, limit);
        RedisLimiter second = limiter(FailurePolicy.FAIL_CLOSED, limit);

        assertEquals(Verdict.ALLOWED, first.decide("k").verdict());
        assertEquals(Verdict.ALLOWED, second.decide("k").verdict());
        assertEquals(Verdict.ALLOWED, first.decide("k").verdict());
        assertEquals(Verdict.ALLOWED, second.decide("k").verdict());
        assertEquals(Verdict.DENIED, first.decide("k").verdict());
        assertEquals(Verdict.DENIED, second.decide("k").verdict());
    }

    @Test
    void aRefusedRequestChargesNoOtherLimitInRedisEither() {
        RedisLimiter limiter = limiter(FailurePolicy.FAIL_CLOSED, tokenBucket(2, Duration.ofHours(1), 2),
                tokenBucket(3, Duration.ofHours(1), 3), new Limit(Algorithm.LEAKY_BUCKET, 1, Duration.ofHours(1), 3));

        assertEquals(Verdict.ALLOWED, limiter.decide("k").verdict());
        Decision second = limiter.decide("k");
        assertEquals(new Decision(Verdict.ALLOWED, 2, 0, second.resetNanos(), 0), second);
        for (int i = 0; i < 5; i++) {
            assertEquals(2, limiter.decide("k").limit(), "refused by the first limit");
        }
        try (JedisPooled client = new JedisPooled(URI.create(REDIS.server().url()))) {
            assertEquals(1.0, Double.parseDouble(client.hget("test:{k}:1:tb:3:3600000ms:3", "tokens")), 0.01);
        }
    }

    @Test
    void aLeakyBucketInRedisPacesRequests() {
        RedisLimiter limiter = limiter(FailurePolicy.FAIL_CLOSED,
                new Limit(Algorithm.LEAKY_BUCKET, 1, Duration.ofHours(1), 2));

        assertEquals(Verdict.ALLOWED, limiter.decide("k").verdict());
        assertEquals(Verdict.ALLOWED, limiter.decide("k").verdict());
        Decision refused = limiter.decide("k");
        assertEquals(Verdict.DENIED, refused.verdict());
        assertTrue(Math.abs(refused.retryAfterNanos() - Duration.ofHours(1).toNanos()) < 5_000_000_000L,
                "one interval to wait: " + refused.retryAfterNanos());
    }

    @Test
    void theProviderBuildsThePhasedFormForTheLocalStoreOnlyNeverForOneThatAsksRedis() throws Exception {
        String limits = "limits: [{rate: 1000, period: 1s}]\n";
        RateLimitProvider provider = new RateLimitProvider();
        try (var local = BuiltPlugin.middleware(provider, limits);
                var redis = BuiltPlugin.middleware(provider,
                        limits + "store: redis\nredis-url: " + REDIS.server().url())) {
            assertInstanceOf(PhasedMiddleware.class, local.instance());
            assertFalse(redis.instance() instanceof PhasedMiddleware,
                    "a decision Redis makes is a round trip, which must not hold an IO thread");
            assertInstanceOf(AutoCloseable.class, redis.instance(), "closes its Redis connections");
        }
    }
}
