package dev.modelgate.plugins.ratelimit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.modelgate.plugins.ratelimit.Decision.Verdict;
import dev.modelgate.plugins.ratelimit.Limit.Algorithm;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class LocalLimiterTest {

    private static final int THREADS = 64;

    /** The limiter's nanoTime, which stands still until a test moves it; any origin, as only differences count. */
    private final AtomicLong nanoTime = new AtomicLong(-5_000_000_000L);

    /** Moves the time; thread-safe, so that one thread may move it while others decide. */
    private void advance(Duration step) {
        nanoTime.addAndGet(step.toNanos());
    }

    private static Limit tokenBucket(int rate, Duration period, int burst) {
        return new Limit(Algorithm.TOKEN_BUCKET, rate, period, burst);
    }

    private static Limit leakyBucket(int rate, Duration period, int burst) {
        return new Limit(Algorithm.LEAKY_BUCKET, rate, period, burst);
    }

    /** Runs {@code calls} decisions for {@code key} on each of 64 virtual threads at once; returns how many passed. */
    private static int admittedByManyThreads(Limiter limiter, String key, int calls) throws Exception {
        AtomicInteger admitted = new AtomicInteger();
        try (ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < THREADS; t++) {
                done.add(threads.submit(() -> {
                    for (int i = 0; i < calls; i++) {
                        if (limiter.decide(key).verdict() == Verdict.ALLOWED) {
                            admitted.incrementAndGet();
                        }
                    }
                }));
            }
            for (Future<?> future : done) {
                future.get();
            }
        }
        return admitted.get();
    }

    @Test
    void manyThreadsOnOneKeyGetExactlyTheBurstAndThenExactlyWhatTheRateRefilled() throws Exception {
        LocalLimiter limiter = new LocalLimiter(List.of(tokenBucket(5, Duration.ofSeconds(1), 10)),
                nanoTime::get, 1000);

        assertEquals(10, admittedByManyThreads(limiter, "k", 50));
        advance(Duration.ofMillis(1500));
        assertEquals(7, admittedByManyThreads(limiter, "k", 50));
        advance(Duration.ofSeconds(60));
        assertEquals(10, admittedByManyThreads(limiter, "k", 50), "a bucket never holds more than its burst");
    }

    @Test
    void manyThreadsRacingAMovingClockNeverGetMoreThanBurstPlusRateTimesElapsed() throws Exception {
        LocalLimiter limiter = new LocalLimiter(List.of(tokenBucket(1000, Duration.ofSeconds(1), 50)),
                nanoTime::get, 1000);
        AtomicBoolean running = new AtomicBoolean(true);
        AtomicInteger admitted = new AtomicInteger();
        Duration step = Duration.ofMillis(1);
        int steps = 2000;
        try (ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<?>> workers = new ArrayList<>();
            for (int t = 0; t < THREADS; t++) {
                workers.add(threads.submit(() -> {
                    while (running.get()) {
                        if (limiter.decide("k").verdict() == Verdict.ALLOWED) {
                            admitted.incrementAndGet();
                        }
                    }
                }));
            }
            for (int i = 0; i < steps; i++) {
                advance(step);
                Thread.yield();
            }
            running.set(false);
            for (Future<?> worker : workers) {
                worker.get();
            }
        }
        long bound = 50 + 1000L * steps * step.toMillis() / 1000;
        assertTrue(admitted.get() <= bound, admitted.get() + " admitted, more than " + bound);
        assertTrue(admitted.get() > 50, "the refill was never used: " + admitted.get());
    }

    @Test
    void tellsWhatRemainsWhenTheBucketIsFullAgainAndWhenToRetry() {
        LocalLimiter limiter = new LocalLimiter(List.of(tokenBucket(5, Duration.ofSeconds(1), 10)),
                nanoTime::get, 1000);

        assertEquals(new Decision(Verdict.ALLOWED, 10, 9, 200_000_000L, 0), limiter.decide("k"));
        for (int i = 0; i < 9; i++) {
            limiter.decide("k");
        }
        assertEquals(new Decision(Verdict.DENIED, 10, 0, 2_000_000_000L, 200_000_000L), limiter.decide("k"));
        advance(Duration.ofMillis(150));
        assertEquals(new Decision(Verdict.DENIED, 10, 0, 1_850_000_000L, 50_000_000L), limiter.decide("k"));
        advance(Duration.ofMillis(50));
        assertEquals(Verdict.ALLOWED, limiter.decide("k").verdict());
    }

    @Test
    void aRequestRefusedByOneLimitChargesNoneOfTheOthers() {
        LocalLimiter limiter = new LocalLimiter(List.of(tokenBucket(3, Duration.ofSeconds(1), 3),
                tokenBucket(5, Duration.ofMinutes(1), 5)), nanoTime::get, 1000);

        for (int i = 0; i < 3; i++) {
            assertEquals(Verdict.ALLOWED, limiter.decide("k").verdict());
        }
        for (int i = 0; i < 10; i++) {
            Decision refused = limiter.decide("k");
            assertEquals(Verdict.DENIED, refused.verdict());
            assertEquals(3, refused.limit(), "the per-second limit refused it");
        }
        advance(Duration.ofSeconds(1));

        Decision fourth = limiter.decide("k");
        assertEquals(Verdict.ALLOWED, fourth.verdict(), "the refusals above charged the per-minute limit");
        assertEquals(5, fourth.limit(), "the per-minute limit, with one left, is the most restrictive");
        assertEquals(1, fourth.remaining());
        assertEquals(Verdict.ALLOWED, limiter.decide("k").verdict());
        Decision perMinute = limiter.decide("k");
        assertEquals(Verdict.DENIED, perMinute.verdict());
        assertEquals(5, perMinute.limit());
        // One token per 12s: 1s after the first requests the bucket holds 1/12 token, 11s short of a whole one.
        assertEquals(11_000_000_000L, perMinute.retryAfterNanos());
    }

    @Test
    void aLeakyBucketAdmitsRequestsSpacedByTheIntervalAndRefusesFasterOnes() {
        LocalLimiter limiter = new LocalLimiter(List.of(leakyBucket(5, Duration.ofSeconds(1), 1)), nanoTime::get, 1000);

        for (int i = 0; i < 20; i++) {
            assertEquals(Verdict.ALLOWED, limiter.decide("k").verdict(), "request " + i);
            advance(Duration.ofMillis(199));
            Decision early = limiter.decide("k");
            assertEquals(Verdict.DENIED, early.verdict(), "request " + i + " came 1ms early");
            assertEquals(1_000_000L, early.retryAfterNanos());
            advance(Duration.ofMillis(1));
        }
    }

    @Test
    void aLeakyBucketLetsItsBurstThroughBackToBackThenPaces() {
        LocalLimiter limiter = new LocalLimiter(List.of(leakyBucket(10, Duration.ofSeconds(1), 3)),
                nanoTime::get, 1000);

        assertEquals(new Decision(Verdict.ALLOWED, 3, 2, 100_000_000L, 0), limiter.decide("k"));
        assertEquals(Verdict.ALLOWED, limiter.decide("k").verdict());
        assertEquals(new Decision(Verdict.ALLOWED, 3, 0, 300_000_000L, 0), limiter.decide("k"));
        assertEquals(new Decision(Verdict.DENIED, 3, 0, 300_000_000L, 100_000_000L), limiter.decide("k"));
        advance(Duration.ofMillis(100));
        assertEquals(Verdict.ALLOWED, limiter.decide("k").verdict());
        assertEquals(Verdict.DENIED, limiter.decide("k").verdict());
    }

    /**
     * A limiter of 5 a second, burst 1, whose time starts {@code beforeWrap} short of Long.MAX_VALUE: System.nanoTime
     * may sit anywhere, so limits must hold across its wrap to Long.MIN_VALUE.
     */
    private LocalLimiter limiterWrappingAfter(Duration beforeWrap, Algorithm algorithm) {
        nanoTime.set(Long.MAX_VALUE - beforeWrap.toNanos());
        return new LocalLimiter(List.of(new Limit(algorithm, 5, Duration.ofSeconds(1), 1)), nanoTime::get, 1000);
    }

    @ParameterizedTest
    @EnumSource(Algorithm.class)
    void aChargeEndingPastTheWrapOfTheTimeSourceHoldsAndRefillsOnTime(Algorithm algorithm) {
        LocalLimiter limiter = limiterWrappingAfter(Duration.ofMillis(100), algorithm);

        assertEquals(Verdict.ALLOWED, limiter.decide("k").verdict());
        assertEquals(Verdict.DENIED, limiter.decide("k").verdict(), "the charge, stored past the wrap, holds");
        advance(Duration.ofMillis(199));
        assertEquals(Verdict.DENIED, limiter.decide("k").verdict(), "1ms early, just past the wrap");
        advance(Duration.ofMillis(1));
        assertEquals(Verdict.ALLOWED, limiter.decide("k").verdict(), "refilled across the wrap");
    }

    @ParameterizedTest
    @EnumSource(Algorithm.class)
    void aSweepDueBeforeTheWrapOfTheTimeSourceRunsAfterItAndDropsKeysFullBeforeIt(Algorithm algorithm) {
        LocalLimiter limiter = limiterWrappingAfter(Duration.ofMillis(10_500), algorithm);
        limiter.decide("k");

        advance(Duration.ofSeconds(11));
        limiter.decide("late");

        assertEquals(1, limiter.size(), "the sweep came due and dropped the key full again");
    }

    @Test
    void keysAreCountedApart() {
        LocalLimiter limiter = new LocalLimiter(List.of(tokenBucket(1, Duration.ofMinutes(1), 1)), nanoTime::get, 1000);

        assertEquals(Verdict.ALLOWED, limiter.decide("a").verdict());
        assertEquals(Verdict.DENIED, limiter.decide("a").verdict());
        assertEquals(Verdict.ALLOWED, limiter.decide("b").verdict());
    }

    @Test
    void keysWhoseBucketsAreFullAgainAreDroppedByTheNextSweep() {
        LocalLimiter limiter = new LocalLimiter(List.of(tokenBucket(5, Duration.ofSeconds(1), 10)),
                nanoTime::get, 1000);
        for (int i = 0; i < 500; i++) {
            limiter.decide("client-" + i);
        }
        assertEquals(500, limiter.size());

        advance(Duration.ofSeconds(11));
        limiter.decide("late");

        assertEquals(1, limiter.size());
    }

    @Test
    void neverHoldsMoreThanMaxKeysAndKeepsTheKeysFurthestFromFull() {
        LocalLimiter limiter = new LocalLimiter(List.of(tokenBucket(1, Duration.ofHours(1), 5)), nanoTime::get, 100);
        for (int i = 0; i < 5; i++) {
            assertEquals(Verdict.ALLOWED, limiter.decide("hammering").verdict());
        }

        for (int i = 0; i < 10_000; i++) {
            limiter.decide("client-" + i);
            assertTrue(limiter.size() <= 100, "held " + limiter.size() + " keys");
        }

        assertEquals(Verdict.DENIED, limiter.decide("hammering").verdict(),
                "the drained key, full last of all, was kept and is still refused");
    }

    @Test
    void sweepsRacingRequestsNeverDropACharge() throws Exception {
        LocalLimiter limiter = new LocalLimiter(List.of(tokenBucket(1, Duration.ofHours(1), 3)), nanoTime::get, 1000);

        for (int round = 0; round < 50; round++) {
            // Full again and a sweep due: the first requests of the round race the sweep that would drop the key.
            advance(Duration.ofHours(4));
            assertEquals(3, admittedByManyThreads(limiter, "hot", 4), "round " + round);
        }
    }
}
