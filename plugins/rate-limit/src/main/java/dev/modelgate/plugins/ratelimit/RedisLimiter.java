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
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
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
 * all limits of a request atomically inside Redis, on Redis's own clock. Thread-safe; shared by all request threads.
 *
 * <p>Decisions are batched: a request thread queues its call and waits; each of {@code redis-pool-size} sender
 * threads takes every call queued meanwhile (up to {@link #MAX_BATCH}) and decides them all in one script call, in
 * their order, each as its own atomic step. Under load one round trip and one script run thus carry many decisions,
 * not one, which is what bounded a gateway's decisions per second; the guarantee across replicas is unchanged (no
 * more than burst + rate x time admitted, whoever asks), as the script decides each request as if it came alone.
 * (Standalone Redis, as Jedis's pooled client speaks it: one call names many requests' keys, which a Redis Cluster
 * would refuse as spanning slots.)
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
 * success ends the backoff. A call waits at most {@code timeout} in the queue, and its sender at most {@code timeout}
 * to connect and for each answer. A call still queued after {@code timeout} (every sender busy that long) fails that
 * request alone, without a backoff, and is never sent.
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
    /** The most requests one script call decides: bounds the time Redis spends in one script, and the buffers. */
    static final int MAX_BATCH = 128;

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
    private final long timeoutNanos;
    private final BlockingQueue<Call> queue = new LinkedBlockingQueue<>();
    private final List<Thread> senders;

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
        this.timeoutNanos = settings.timeout().toNanos();
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < settings.poolSize(); i++) {
            threads.add(Thread.ofVirtual().name("rate-limit-redis-" + i).start(this::send));
        }
        this.senders = List.copyOf(threads);
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
            Decision decision = decideInRedis(key);
            if (retryFrom != HEALTHY) {
                retryAt.set(HEALTHY);
                logger.log(System.Logger.Level.INFO, "rate-limit: Redis at " + address + " answers again");
            }
            return decision;
        } catch (RuntimeException e) {
            if (!(e instanceof NotSent)) {
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

    private Decision decideInRedis(String key) {
        List<String> keys = new ArrayList<>(keySuffixes.size());
        for (String suffix : keySuffixes) {
            keys.add(keyPrefix + "{" + key + suffix);
        }
        Call call = new Call(keys);
        queue.add(call);
        try {
            try {
                return decisionOf(call.reply.get(timeoutNanos, TimeUnit.NANOSECONDS));
            } catch (TimeoutException e) {
                if (call.claim()) {
                    throw new NotSent("every Redis connection stayed busy for the timeout");
                }
                // On its way: the sender's timeouts end it (to connect, to read, a retry); this bound is a safety net.
                return decisionOf(call.reply.get(4 * timeoutNanos, TimeUnit.NANOSECONDS));
            }
        } catch (ExecutionException e) {
            throw e.getCause() instanceof RuntimeException cause ? cause : new IllegalStateException(e.getCause());
        } catch (TimeoutException e) {
            throw new IllegalStateException("no answer from Redis within five times the timeout", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            if (call.claim()) {
                throw new NotSent("interrupted before the call was sent");
            }
            throw new IllegalStateException("interrupted waiting for Redis's answer", e);
        }
    }

    /** One request's script call, queued for a sender; claimed once, by a sender or by its caller giving up. */
    private static final class Call {
        final List<String> keys;
        final CompletableFuture<Object> reply = new CompletableFuture<>();
        private final AtomicBoolean claimed = new AtomicBoolean();

        Call(List<String> keys) {
            this.keys = keys;
        }

        boolean claim() {
            return claimed.compareAndSet(false, true);
        }
    }

    /** A call its request gave up on before any sender took it: says nothing about Redis, so no backoff. */
    private static final class NotSent extends RuntimeException {
        NotSent(String why) {
            super(why, null, false, false);
        }
    }

    /** A sender's loop: takes what is queued, decides it in one script call, answers each call; until closed. */
    private void send() {
        List<Call> batch = new ArrayList<>(MAX_BATCH);
        while (true) {
            try {
                batch.add(queue.take());
            } catch (InterruptedException e) {
                return;
            }
            queue.drainTo(batch, MAX_BATCH - 1);
            batch.removeIf(call -> !call.claim());
            if (!batch.isEmpty()) {
                answer(batch);
            }
            batch.clear();
        }
    }

    /** Completes every call of {@code batch} with its part of one script call's reply, or with its failure. */
    private void answer(List<Call> batch) {
        List<String> keys = new ArrayList<>(batch.size() * keySuffixes.size());
        batch.forEach(call -> keys.addAll(call.keys));
        int replySize = 4 * limits.size();
        try {
            if (!(evaluate(keys) instanceof List<?> values) || values.size() != replySize * batch.size()) {
                throw new IllegalStateException("unexpected reply from the rate-limit script");
            }
            for (int i = 0; i < batch.size(); i++) {
                batch.get(i).reply.complete(values.subList(i * replySize, (i + 1) * replySize));
            }
        } catch (RuntimeException e) {
            batch.forEach(call -> call.reply.completeExceptionally(e));
        }
    }

    private Object evaluate(List<String> keys) {
        return eval(redis, SCRIPT, SCRIPT_SHA1, keys, arguments);
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
        List<?> values = (List<?>) reply;
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
        senders.forEach(Thread::interrupt);
        for (Thread sender : senders) {
            try {
                sender.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        redis.close();
        for (Call call = queue.poll(); call != null; call = queue.poll()) {
            call.reply.completeExceptionally(new IllegalStateException("the rate limiter was closed"));
        }
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
