package dev.modelgate.plugins.ratelimit;

import dev.modelgate.spi.Metrics;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import org.apache.commons.pool2.impl.GenericObjectPoolConfig;
import redis.clients.jedis.Connection;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.JedisPooled;
import redis.clients.jedis.exceptions.JedisConnectionException;
import redis.clients.jedis.exceptions.JedisNoScriptException;
import redis.clients.jedis.util.JedisURIHelper;

/**
 * The distributed store: every decision is one call of one Lua script ({@code rate-limit.lua}) that checks and charges
 * all limits of a request atomically inside Redis, on Redis's own clock. Thread-safe; the connection pool is shared by
 * all request threads.
 *
 * <p>The script goes by {@code EVALSHA}; a {@code NOSCRIPT} answer (a restarted or failed-over Redis has an empty
 * script cache) means it did not run, so it is sent once with {@code EVAL}, which also caches it again. A failure
 * after which the script may have run, a timeout above all, is never retried: that could charge a request twice. The
 * one failure retried, once and after emptying the pool, is a pooled connection the server had closed (a restart),
 * which no live server ever read from.
 *
 * <p>When Redis cannot decide (unreachable, timed out, an error reply), the request is answered by the
 * {@link FailurePolicy}, and Redis is left alone for {@code backoff}, so that a dead Redis costs requests nothing:
 * after the backoff one request (the first to claim it) tries Redis again while the others still use the policy;
 * success ends the backoff. Every call waits at most {@code timeout} for a connection, for the connection to open and
 * for the answer. A pool with every connection busy for that long fails that request alone, without a backoff.
 */
final class RedisLimiter implements Limiter, AutoCloseable {

    /** What to do with a request when Redis cannot decide it. */
    enum FailurePolicy {
        /** Let it on, uncounted. */
        FAIL_OPEN("fail-open"),
        /** Refuse it with {@link RateLimitProvider#STORE_UNAVAILABLE}. */
        FAIL_CLOSED("fail-closed"),
        /** Decide it with this instance's own in-process limiter, with the same limits. */
        LOCAL("local");

        final String configName;

        FailurePolicy(String configName) {
            this.configName = configName;
        }
    }

    /**
     * How to reach Redis and what to do without it.
     *
     * @param keyPrefix the start of every key this limiter writes; limiters sharing it share their state
     */
    record Settings(URI url, Duration timeout, int poolSize, Duration backoff, FailurePolicy policy,
            String keyPrefix) {
    }

    static final String SCRIPT = readScript("rate-limit.lua");
    static final String SCRIPT_SHA1 = sha1Hex(SCRIPT);

    private static final long HEALTHY = Long.MIN_VALUE;

    private final JedisPooled redis;
    /** {@code host:port}, for logs: never the URL, which may hold a password. */
    private final String address;
    private final List<Limit> limits;
    private final List<String> keySuffixes;
    private final List<String> arguments;
    private final String keyPrefix;
    private final FailurePolicy policy;
    private final Limiter fallback;
    private final LongSupplier nanoTime;
    private final long backoffNanos;
    private final Metrics.Counter failures;
    private final Metrics.Counter fallbacks;
    private final System.Logger logger;
    /** {@link #HEALTHY}, or the {@code nanoTime} from which Redis may be tried again. */
    private final AtomicLong retryAt = new AtomicLong(HEALTHY);

    /**
     * Opens no connection yet: the gateway starts, and answers by the policy, while Redis is down.
     *
     * @param fallback decides requests for {@link FailurePolicy#LOCAL}; unused otherwise
     * @param nanoTime a monotonic time source for the backoff, {@link System#nanoTime} outside tests
     */
    RedisLimiter(Settings settings, List<Limit> limits, Limiter fallback, LongSupplier nanoTime,
            Metrics.Counter failures, Metrics.Counter fallbacks, System.Logger logger) {
        this.redis = connect(settings);
        this.address = JedisURIHelper.getHostAndPort(settings.url()).toString();
        this.limits = List.copyOf(limits);
        this.keyPrefix = settings.keyPrefix();
        this.policy = settings.policy();
        this.fallback = fallback;
        this.nanoTime = nanoTime;
        this.backoffNanos = settings.backoff().toNanos();
        this.failures = failures;
        this.fallbacks = fallbacks;
        this.logger = logger;
        List<String> suffixes = new ArrayList<>();
        List<String> args = new ArrayList<>();
        for (int i = 0; i < this.limits.size(); i++) {
            Limit limit = this.limits.get(i);
            suffixes.add("}:" + i + ":" + limit.signature());
            args.add(limit.algorithm() == Limit.Algorithm.TOKEN_BUCKET ? "1" : "2");
            args.add(Integer.toString(limit.rate()));
            args.add(Long.toString(limit.period().toNanos() / 1000));
            args.add(Integer.toString(limit.burst()));
        }
        this.keySuffixes = List.copyOf(suffixes);
        this.arguments = List.copyOf(args);
    }

    static JedisPooled connect(Settings settings) {
        int timeoutMillis = (int) Math.max(1, settings.timeout().toMillis());
        GenericObjectPoolConfig<Connection> pool = new GenericObjectPoolConfig<>();
        pool.setMaxTotal(settings.poolSize());
        pool.setMaxIdle(settings.poolSize());
        pool.setMinIdle(0);
        pool.setMaxWait(settings.timeout());
        pool.setJmxEnabled(false);
        URI url = settings.url();
        DefaultJedisClientConfig client = DefaultJedisClientConfig.builder()
                .connectionTimeoutMillis(timeoutMillis)
                .socketTimeoutMillis(timeoutMillis)
                .user(JedisURIHelper.getUser(url))
                .password(JedisURIHelper.getPassword(url))
                .database(JedisURIHelper.getDBIndex(url))
                .ssl(JedisURIHelper.isRedisSSLScheme(url))
                .clientName("modelgate-rate-limit")
                .build();
        return new JedisPooled(pool, JedisURIHelper.getHostAndPort(url), client);
    }

    @Override
    public Decision decide(String key) {
        long retryFrom = retryAt.get();
        if (retryFrom != HEALTHY) {
            long now = nanoTime.getAsLong();
            // Still backing off, or another request already claimed the next try.
            if (now - retryFrom < 0 || !retryAt.compareAndSet(retryFrom, now + backoffNanos)) {
                return withoutRedis(key);
            }
        }
        try {
            Decision decision = evaluate(key);
            if (retryFrom != HEALTHY) {
                retryAt.set(HEALTHY);
                logger.log(System.Logger.Level.INFO, "rate-limit: Redis at " + address + " answers again");
            }
            return decision;
        } catch (RuntimeException e) {
            if (!poolExhausted(e)) {
                failures.increment();
                long previous = retryAt.getAndSet(nanoTime.getAsLong() + backoffNanos);
                if (previous == HEALTHY) {
                    logger.log(System.Logger.Level.WARNING, "rate-limit: Redis at " + address
                            + " failed, answering by policy " + policy.configName + " and retrying every "
                            + Duration.ofNanos(backoffNanos).toMillis() + "ms: " + e);
                }
            }
            return withoutRedis(key);
        }
    }

    private Decision evaluate(String key) {
        List<String> keys = new ArrayList<>(keySuffixes.size());
        for (String suffix : keySuffixes) {
            keys.add(keyPrefix + "{" + key + suffix);
        }
        return decisionOf(eval(redis, SCRIPT, SCRIPT_SHA1, keys, arguments));
    }

    /**
     * Runs {@code script} by its SHA-1, sending its text when Redis does not have it cached, and once more when the
     * pooled connection turns out to have been closed by the server (see the class comment).
     */
    static Object eval(JedisPooled redis, String script, String sha1, List<String> keys, List<String> arguments) {
        try {
            return run(redis, script, sha1, keys, arguments);
        } catch (JedisConnectionException e) {
            if (!closedByServer(e)) {
                throw e;
            }
            // The other idle connections predate the restart too.
            redis.getPool().clear();
            return run(redis, script, sha1, keys, arguments);
        }
    }

    private static Object run(JedisPooled redis, String script, String sha1, List<String> keys,
            List<String> arguments) {
        try {
            return redis.evalsha(sha1, keys, arguments);
        } catch (JedisNoScriptException e) {
            return redis.eval(script, keys, arguments);
        }
    }

    private Decision decisionOf(Object reply) {
        if (!(reply instanceof List<?> values) || values.size() != 4 * limits.size()) {
            throw new IllegalStateException("unexpected reply from the rate-limit script: " + reply);
        }
        Decision.Outcome[] outcomes = new Decision.Outcome[limits.size()];
        for (int i = 0; i < outcomes.length; i++) {
            outcomes[i] = new Decision.Outcome(number(values, 4 * i) == 1, number(values, 4 * i + 1),
                    number(values, 4 * i + 2) * 1000, number(values, 4 * i + 3) * 1000);
        }
        return Decision.of(limits, outcomes);
    }

    private static long number(List<?> values, int index) {
        if (!(values.get(index) instanceof Long value)) {
            throw new IllegalStateException("unexpected reply from the rate-limit script: " + values);
        }
        return value;
    }

    private Decision withoutRedis(String key) {
        fallbacks.increment();
        return switch (policy) {
            case FAIL_OPEN -> Decision.UNCHECKED;
            case FAIL_CLOSED -> Decision.UNAVAILABLE;
            case LOCAL -> fallback.decide(key);
        };
    }

    /**
     * Whether {@code e} says the server had closed the connection before this request: end of stream, a reset or a
     * broken pipe, but no timeout (the server may be running the script) and no failed connect (nothing to retry).
     */
    static boolean closedByServer(Throwable e) {
        boolean closed = false;
        for (Throwable cause = e; cause != null; cause = cause.getCause()) {
            if (cause instanceof SocketTimeoutException || cause instanceof ConnectException) {
                return false;
            }
            closed |= cause instanceof SocketException
                    || String.valueOf(cause.getMessage()).contains("Unexpected end of stream");
        }
        return closed;
    }

    /** Whether {@code e} is the pool's "no connection free within the timeout", which says nothing of Redis. */
    static boolean poolExhausted(Throwable e) {
        for (Throwable cause = e; cause != null; cause = cause.getCause()) {
            if (cause instanceof NoSuchElementException && cause.getCause() == null) {
                return true;
            }
        }
        return false;
    }

    @Override
    public void close() {
        redis.close();
    }

    /** The Lua script {@code name}, from this package's resources. */
    static String readScript(String name) {
        try (InputStream in = RedisLimiter.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException(name + " is missing from the plugin jar");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static String sha1Hex(String text) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1")
                    .digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform must support SHA-1", e);
        }
    }
}
