package dev.modelgate.plugins.ratelimit;

import dev.modelgate.spi.ClientAddress;
import dev.modelgate.spi.ConfigNode;
import dev.modelgate.spi.ErrorCode;
import dev.modelgate.spi.Exchange;
import dev.modelgate.spi.Metrics;
import dev.modelgate.spi.Middleware;
import dev.modelgate.spi.MiddlewareProvider;
import dev.modelgate.spi.PhasedMiddleware;
import dev.modelgate.spi.PluginContext;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * The {@code rate-limit} middleware: token and leaky buckets, in process or shared in Redis.
 *
 * <pre>
 * - type: rate-limit
 *   key: client-ip            # subject | api-key | client-ip (default) | route | header:NAME
 *   store: local              # local (default) | redis
 *   max-keys: 100000          # local store: the most keys held in memory
 *   redis-url: redis://redis:6379     # store redis: redis:// or rediss://, with user, password and /db if needed
 *   redis-timeout: 50ms       # the most a request waits on Redis: for a connection, to connect, for the answer
 *   redis-pool-size: 8        # connections per gateway instance, each deciding queued requests in one call
 *   redis-backoff: 1s         # after a failure, how long Redis is left alone
 *   redis-key-prefix: ...     # default modelgate:rate-limit:PATH: where PATH is this entry's config path
 *   on-redis-failure: local   # fail-open | fail-closed | local (default): see below
 *   limits:                   # at least one; a request must pass every one, and a refused one charges none
 *     - algorithm: token-bucket   # token-bucket (default) | leaky-bucket
 *       rate: 5               # requests per period, 1 to 1000000
 *       period: 1s            # default 1s, at most 24h
 *       burst: 10             # token-bucket: bucket size, default rate; leaky-bucket: back-to-back requests, default 1
 * </pre>
 *
 * <p>Keys: {@code subject} is the authenticated {@link dev.modelgate.spi.Principal}'s subject (so an
 * authentication middleware must run first), {@code api-key} the subject of a principal authenticated by API key,
 * {@code route} the model and API version, {@code header:NAME} a header's value. A request without what its key
 * needs is keyed as anonymous by its client address. {@code client-ip} and that fallback read
 * {@code X-Forwarded-For} only from {@code server.trusted-proxies} (see {@link ClientAddress}; this middleware's own
 * {@code trusted-proxies}, from before the setting was shared, still works).
 *
 * <p>Answers: refused requests get 429 with {@link #RATE_LIMITED}, {@code Retry-After} and the {@code RateLimit-*}
 * headers of the most restrictive limit; admitted requests' responses carry the {@code RateLimit-*} headers too.
 * When Redis cannot decide, {@code fail-open} lets requests on without headers, {@code fail-closed} refuses them with
 * 503 {@link #STORE_UNAVAILABLE}, {@code local} counts them in this instance alone with the same limits; see
 * {@link RedisLimiter} for the timeout and backoff. Readiness does not depend on Redis.
 *
 * <p>Metrics, labelled {@code limiter} with this entry's config path: {@code modelgate_rate_limit_decisions_total}
 * ({@code decision} allowed or denied), {@code modelgate_rate_limit_redis_failures_total},
 * {@code modelgate_rate_limit_fallbacks_total} ({@code policy}: requests answered without Redis) and the gauge
 * {@code modelgate_rate_limit_local_keys}.
 */
public final class RateLimitProvider implements MiddlewareProvider {

    public static final ErrorCode RATE_LIMITED = new ErrorCode(30101, 429, "RESOURCE_EXHAUSTED", "rate limited");
    public static final ErrorCode STORE_UNAVAILABLE =
            new ErrorCode(30102, 503, "UNAVAILABLE", "rate limit store unavailable");

    private static final int MAX_RATE = 1_000_000;
    private static final Duration MAX_PERIOD = Duration.ofHours(24);
    private static final Duration MAX_REDIS_TIMEOUT = Duration.ofSeconds(5);
    private static final Duration MAX_REDIS_BACKOFF = Duration.ofMinutes(1);
    private static final List<String> REDIS_KEYS = List.of("redis-url", "redis-timeout", "redis-pool-size",
            "redis-backoff", "redis-key-prefix", "on-redis-failure");
    /** An HTTP field name is a token (RFC 9110, section 5.1). */
    private static final Pattern FIELD_NAME = Pattern.compile("[!#$%&'*+.^_`|~0-9A-Za-z-]+");

    @Override
    public String type() {
        return "rate-limit";
    }

    @Override
    public List<ErrorCode> errorCodes() {
        return List.of(RATE_LIMITED, STORE_UNAVAILABLE);
    }

    @Override
    public Middleware create(ConfigNode config, PluginContext context) {
        RequestKey requestKey = requestKey(config, clientAddress(config, context), "client-ip");
        List<Limit> limits = limits(config);
        String store = config.string("store", "local");
        int maxKeys = config.integer("max-keys", 100_000, 1, 100_000_000);
        RedisLimiter.Settings redisSettings = redisSettings(config, context, store, "modelgate:rate-limit:");
        if (limits.isEmpty() || store.equals("redis") && redisSettings == null) {
            // Never runs: the kernel discards what a create that reported a problem returns.
            return (exchange, chain) -> chain.proceed();
        }
        Metrics metrics = context.metrics();
        Map<String, String> labels = Map.of("limiter", context.name());
        // Monotonic: the wall clock stepping back would stop refills, and hold leaky buckets shut, for as long.
        LocalLimiter local = new LocalLimiter(limits, System::nanoTime, maxKeys);
        metrics.gauge("modelgate_rate_limit_local_keys", "Keys held by the in-process rate limiter.", labels,
                local::size);
        Limiter limiter = local;
        long unavailableRetrySeconds = 1;
        if (redisSettings != null) {
            limiter = new RedisLimiter(redisSettings, limits, local, System::nanoTime,
                    metrics.counter("modelgate_rate_limit_redis_failures_total",
                            "Rate-limit calls to Redis that failed or timed out.", labels),
                    metrics.counter("modelgate_rate_limit_fallbacks_total",
                            "Rate-limit decisions made without Redis, by the on-redis-failure policy.",
                            Map.of("limiter", context.name(), "policy", redisSettings.policy().configName)),
                    context.logger());
            unavailableRetrySeconds = Decision.ceilSeconds(redisSettings.backoff().toNanos());
        }
        String decisions = "modelgate_rate_limit_decisions_total";
        String help = "Rate-limit decisions by outcome.";
        RateLimitMiddleware middleware = new RateLimitMiddleware(requestKey, limiter,
                metrics.counter(decisions, help, Map.of("limiter", context.name(), "decision", "allowed")),
                metrics.counter(decisions, help, Map.of("limiter", context.name(), "decision", "denied")),
                unavailableRetrySeconds);
        // A decision Redis makes is a network round trip, which must not happen on an IO thread: not phased then.
        return redisSettings != null ? PhasedMiddleware.blocking(middleware) : middleware;
    }

    /**
     * The request's client address: the kernel's, found with {@code server.trusted-proxies}. This middleware's own
     * {@code trusted-proxies}, from before that setting was shared, still works and is said to be superseded.
     */
    static Function<Exchange, String> clientAddress(ConfigNode config, PluginContext context) {
        if (!config.has("trusted-proxies")) {
            return Exchange::clientAddress;
        }
        ClientAddress own = ClientAddress.fromConfig(config, "trusted-proxies");
        context.logger().log(System.Logger.Level.WARNING, config.pathOf("trusted-proxies") + " is superseded by"
                + " server.trusted-proxies, which the access log and balancing follow too; move it there");
        return exchange -> own.of(exchange.peerAddress(), exchange.requestHeaders());
    }

    /** The {@code key} setting, {@code defaultKey} when absent. */
    static RequestKey requestKey(ConfigNode config, Function<Exchange, String> clientAddress, String defaultKey) {
        String key = config.string("key", defaultKey);
        if (key.startsWith("header:")) {
            String header = key.substring("header:".length()).strip();
            if (!FIELD_NAME.matcher(header).matches()) {
                config.problem("key", "header:NAME needs an HTTP header name, but was '" + header + "'");
            }
            return new RequestKey(RequestKey.Kind.HEADER, header, clientAddress);
        }
        RequestKey.Kind kind = switch (key) {
            case "subject" -> RequestKey.Kind.SUBJECT;
            case "api-key" -> RequestKey.Kind.API_KEY;
            case "client-ip" -> RequestKey.Kind.CLIENT_IP;
            case "route" -> RequestKey.Kind.ROUTE;
            default -> {
                config.problem("key", "must be subject, api-key, client-ip, route or header:NAME, but was '" + key
                        + "'");
                yield RequestKey.Kind.CLIENT_IP;
            }
        };
        return new RequestKey(kind, null, clientAddress);
    }

    /** The valid limits; empty after reporting when any is invalid or none is given. */
    private static List<Limit> limits(ConfigNode config) {
        List<ConfigNode> nodes = config.list("limits");
        if (nodes.isEmpty()) {
            config.problem("limits", "at least one limit is required");
        }
        List<Limit> limits = new ArrayList<>();
        boolean valid = !nodes.isEmpty();
        for (ConfigNode node : nodes) {
            Limit limit = limit(node);
            valid &= limit != null;
            limits.add(limit);
        }
        return valid ? limits : List.of();
    }

    /** One limit, or {@code null} after reporting its problems. */
    private static Limit limit(ConfigNode node) {
        String algorithmName = node.string("algorithm", Limit.Algorithm.TOKEN_BUCKET.configName);
        Limit.Algorithm algorithm = Arrays.stream(Limit.Algorithm.values())
                .filter(candidate -> candidate.configName.equals(algorithmName))
                .findFirst().orElse(null);
        if (algorithm == null) {
            node.problem("algorithm", "must be " + Arrays.stream(Limit.Algorithm.values())
                    .map(known -> known.configName).collect(Collectors.joining(" or ")) + ", but was '"
                    + algorithmName + "'");
        }
        if (!node.has("rate")) {
            node.problem("rate", "is required");
        }
        int rate = node.integer("rate", 0, 1, MAX_RATE);
        Duration period = node.duration("period", Duration.ofSeconds(1));
        if (period.compareTo(MAX_PERIOD) > 0) {
            node.problem("period", "must be at most 24h, but was " + period.toHours() + "h");
            period = null;
        }
        int defaultBurst = algorithm == Limit.Algorithm.LEAKY_BUCKET ? 1 : Math.max(rate, 1);
        int burst = node.integer("burst", defaultBurst, 1, MAX_RATE);
        if (period != null && period.toNanos() > Limit.MAX_BURST_NANOS / burst) {
            node.problem("burst", "burst * period must be at most " + Duration.ofNanos(Limit.MAX_BURST_NANOS / burst)
                    .toHours() + "h with a burst of " + burst + "; lower the burst or use a shorter period");
            period = null;
        }
        return algorithm == null || rate == 0 || period == null ? null : new Limit(algorithm, rate, period, burst);
    }

    /**
     * The Redis settings of {@code store: redis}; {@code null} for {@code store: local} (whose entry must then hold no
     * Redis settings), or after reporting what is wrong with them.
     *
     * @param keyPrefixBase the start of the default {@code redis-key-prefix}, which goes on with the entry's path
     */
    static RedisLimiter.Settings redisSettings(ConfigNode config, PluginContext context, String store,
            String keyPrefixBase) {
        switch (store) {
            case "local" -> REDIS_KEYS.stream().filter(config::has).forEach(key -> {
                config.string(key, null);
                config.problem(key, "applies only with store: redis");
            });
            case "redis" -> {
                return redisSettings(config, context, keyPrefixBase);
            }
            default -> config.problem("store", "must be local or redis, but was '" + store + "'");
        }
        return null;
    }

    private static RedisLimiter.Settings redisSettings(ConfigNode config, PluginContext context,
            String keyPrefixBase) {
        URI url = redisUrl(config);
        Duration timeout = config.duration("redis-timeout", Duration.ofMillis(50));
        if (timeout.compareTo(MAX_REDIS_TIMEOUT) > 0) {
            config.problem("redis-timeout", "must be at most 5s: every request may wait this long, but was "
                    + timeout.toMillis() + "ms");
        }
        int poolSize = config.integer("redis-pool-size", 8, 1, 1024);
        Duration backoff = config.duration("redis-backoff", Duration.ofSeconds(1));
        if (backoff.compareTo(MAX_REDIS_BACKOFF) > 0) {
            config.problem("redis-backoff", "must be at most 1m, but was " + backoff.toSeconds() + "s");
        }
        String prefix = config.string("redis-key-prefix", keyPrefixBase + context.name() + ":");
        String policyName = config.string("on-redis-failure", RedisLimiter.FailurePolicy.LOCAL.configName);
        RedisLimiter.FailurePolicy policy = Arrays.stream(RedisLimiter.FailurePolicy.values())
                .filter(candidate -> candidate.configName.equals(policyName))
                .findFirst().orElse(null);
        if (policy == null) {
            config.problem("on-redis-failure", "must be fail-open, fail-closed or local, but was '" + policyName
                    + "'");
        }
        return url == null || policy == null ? null
                : new RedisLimiter.Settings(url, timeout, poolSize, backoff, policy, prefix);
    }

    /** The {@code redis-url}, or {@code null} after reporting it; the message never echoes a password. */
    private static URI redisUrl(ConfigNode config) {
        String text = config.string("redis-url");
        if (text.isEmpty()) {
            return null;
        }
        try {
            URI url = new URI(text.strip());
            String scheme = url.getScheme() == null ? "" : url.getScheme().toLowerCase(Locale.ROOT);
            if ((scheme.equals("redis") || scheme.equals("rediss")) && url.getHost() != null) {
                return url.getPort() < 0 ? new URI(url.getScheme(), url.getUserInfo(), url.getHost(), 6379,
                        url.getPath(), null, null) : url;
            }
        } catch (URISyntaxException e) {
            // reported below, without the text, which may hold a password
        }
        config.problem("redis-url", "must be redis://HOST:PORT or rediss://HOST:PORT (with USER:PASSWORD@ and /DB "
                + "if needed)");
        return null;
    }
}
