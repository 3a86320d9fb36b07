package dev.modelgate.plugins.ratelimit;

import dev.modelgate.spi.Metrics;
import dev.modelgate.spi.PluginContext;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.Map;
import redis.clients.jedis.JedisPooled;

/**
 * The shared token store: every reservation and adjustment is one call of {@code token-limit.lua}, atomic inside
 * Redis and on Redis's clock, so gateways sharing a Redis share every key's windows. Connections, timeouts, script
 * caching and the failure policies are {@code rate-limit}'s ({@link RedisLimiter}): when Redis cannot answer, a
 * reservation is decided by the policy ({@code local}: by this instance's own windows) and Redis is left alone for
 * the backoff; an adjustment that cannot reach Redis is lost (logged as a failure), or made locally under
 * {@code local}. Thread-safe.
 */
final class RedisTokenBudget implements TokenBudget, AutoCloseable {

    static final String SCRIPT = RedisLimiter.readScript("token-limit.lua");
    static final String SCRIPT_SHA1 = RedisLimiter.sha1Hex(SCRIPT);

    private static final long HEALTHY = Long.MIN_VALUE;

    private final JedisPooled redis;
    private final String keyPrefix;
    private final List<String> keySuffixes = new ArrayList<>();
    private final List<String> windowArguments = new ArrayList<>();
    private final int[] capacities;
    private final RedisLimiter.Settings settings;
    private final TokenBudget fallback;
    private final Metrics.Counter failures;
    private final Metrics.Counter fallbacks;
    private final System.Logger logger;
    /** {@link #HEALTHY}, or the {@link System#nanoTime} before which Redis is not asked. */
    private final AtomicLong quietUntil = new AtomicLong(HEALTHY);

    /**
     * Opens no connection yet: the gateway starts, and answers by the policy, while Redis is down.
     *
     * @param fallback the windows of {@link RedisLimiter.FailurePolicy#LOCAL}; unused otherwise
     * @param context where its metrics and log lines go
     */
    RedisTokenBudget(RedisLimiter.Settings settings, TokenWindow[] windows, TokenBudget fallback,
            PluginContext context) {
        this.settings = settings;
        this.redis = RedisLimiter.connect(settings);
        this.keyPrefix = settings.keyPrefix();
        this.fallback = fallback;
        this.logger = context.logger();
        Map<String, String> labels = Map.of("limiter", context.name());
        this.failures = context.metrics().counter("modelgate_token_limit_redis_failures_total",
                "Token-limit calls to Redis that failed or timed out.", labels);
        this.fallbacks = context.metrics().counter("modelgate_token_limit_fallbacks_total",
                "Token-limit reservations made without Redis, by the on-redis-failure policy.",
                Map.of("limiter", context.name(), "policy", settings.policy().configName));
        this.capacities = Arrays.stream(windows).mapToInt(TokenWindow::capacity).toArray();
        for (int i = 0; i < windows.length; i++) {
            keySuffixes.add("}:" + i + ":" + windows[i].signature());
            windowArguments.add(Integer.toString(windows[i].capacity()));
            windowArguments.add(Long.toString(windows[i].period().toNanos() / 1000));
        }
    }

    @Override
    public Decision reserve(String key, long tokens) {
        Decision.Outcome[] outcomes = inRedis(key, tokens, true);
        if (outcomes != null) {
            return Decision.of(capacities, outcomes);
        }
        fallbacks.increment();
        return switch (settings.policy()) {
            case FAIL_OPEN -> Decision.UNCHECKED;
            case FAIL_CLOSED -> Decision.UNAVAILABLE;
            case LOCAL -> fallback.reserve(key, tokens);
        };
    }

    @Override
    public void adjust(String key, long tokens) {
        if (inRedis(key, tokens, false) == null && settings.policy() == RedisLimiter.FailurePolicy.LOCAL) {
            fallback.adjust(key, tokens);
        }
    }

    /** What Redis said, or {@code null} when it was not asked (backing off) or failed. */
    private Decision.Outcome[] inRedis(String key, long tokens, boolean check) {
        long quiet = quietUntil.get();
        long backoffNanos = settings.backoff().toNanos();
        if (quiet != HEALTHY && (System.nanoTime() - quiet < 0
                || !quietUntil.compareAndSet(quiet, System.nanoTime() + backoffNanos))) {
            return null;
        }
        try {
            List<String> keys = keySuffixes.stream().map(suffix -> keyPrefix + "{" + key + suffix).toList();
            List<String> arguments = new ArrayList<>(windowArguments.size() + 2);
            arguments.add(check ? "1" : "0");
            arguments.add(Long.toString(tokens));
            arguments.addAll(windowArguments);
            Decision.Outcome[] outcomes = outcomesOf(RedisLimiter.eval(redis, SCRIPT, SCRIPT_SHA1, keys,
                    arguments));
            if (quiet != HEALTHY && quietUntil.getAndSet(HEALTHY) != HEALTHY) {
                logger.log(System.Logger.Level.INFO, "token-limit: Redis answers again");
            }
            return outcomes;
        } catch (RuntimeException e) {
            if (!RedisLimiter.poolExhausted(e)) {
                failures.increment();
                if (quietUntil.getAndSet(System.nanoTime() + backoffNanos) == HEALTHY) {
                    logger.log(System.Logger.Level.WARNING, "token-limit: Redis failed, answering by policy "
                            + settings.policy().configName + " for " + Duration.ofNanos(backoffNanos).toMillis() + "ms at a "
                            + "time: " + e);
                }
            }
            return null;
        }
    }

    private Decision.Outcome[] outcomesOf(Object reply) {
        if (!(reply instanceof List<?> values) || values.size() != 4 * capacities.length
                || !values.stream().allMatch(Long.class::isInstance)) {
            throw new IllegalStateException("unexpected reply from the token-limit script: " + reply);
        }
        Decision.Outcome[] outcomes = new Decision.Outcome[capacities.length];
        for (int i = 0; i < outcomes.length; i++) {
            outcomes[i] = new Decision.Outcome((Long) values.get(4 * i) == 1, (Long) values.get(4 * i + 1),
                    (Long) values.get(4 * i + 2) * 1000, (Long) values.get(4 * i + 3) * 1000);
        }
        return outcomes;
    }

    @Override
    public void close() {
        redis.close();
    }
}
