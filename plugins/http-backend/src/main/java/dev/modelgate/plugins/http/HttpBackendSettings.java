package dev.modelgate.plugins.http;

import dev.modelgate.plugins.pool.PoolSettings;
import dev.modelgate.spi.ConfigNode;
import dev.modelgate.spi.PluginContext;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The validated configuration of one {@code http} backend.
 *
 * @param pool the instances, with their balancing, routing rules, health checks and ejection
 * @param maxConnections the most connections open to each instance at once; callers beyond it wait for one
 * @param connectTimeout how long to wait for a connection to be established
 * @param requestTimeout how long to wait for the backend's response once the request is sent
 * @param idleTimeout how long an unused pooled connection is kept
 * @param maxConnectionLifetime how long any connection is used before it is replaced, so DNS changes take effect
 * @param poolTimeout how long a request waits for a free connection when all are in use
 * @param forwardHeaders the request headers passed on to the backend
 * @param maxResponseBytes the largest response body taken; a larger one is refused rather than held in memory
 * @param modelName the model's name as the backend knows it; {@code null} for the name clients use
 * @param protocol the dialect the backend speaks ({@code tf-serving}, {@code kserve-v2}) with instance URLs as base
 *     URLs, or {@code null} for a backend whose URL takes the gateway's TF Serving bodies as they are
 */
record HttpBackendSettings(
        PoolSettings pool,
        int maxConnections,
        Duration connectTimeout,
        Duration requestTimeout,
        Duration idleTimeout,
        Duration maxConnectionLifetime,
        Duration poolTimeout,
        List<String> forwardHeaders,
        int maxResponseBytes,
        String modelName,
        String protocol) {

    static final List<String> PROTOCOLS = List.of("tf-serving", "kserve-v2");

    private static final Set<String> HTTP_SCHEMES = Set.of("http", "https");

    /** Bodies are held in one array, and a backend response of more than this is not a prediction. */
    private static final long MAX_RESPONSE_SIZE_LIMIT = 1L << 30;

    private static final List<String> DEFAULT_FORWARD_HEADERS =
            List.of("X-Request-Id", "traceparent", "tracestate", "Accept");

    /** Headers the gateway sets for backends, which a client must never be able to supply. */
    private static final String GATEWAY_HEADER_PREFIX = "X-Modelgate-";

    /** Hop-by-hop headers and those describing the message: each connection has its own. */
    private static final Set<String> NOT_FORWARDED = Set.of("connection", "keep-alive", "proxy-connection",
            "transfer-encoding", "te", "trailer", "upgrade", "host", "content-length", "expect",
            "proxy-authorization");

    /**
     * Reads and validates {@code config}, reporting each bad value by key and using its default instead.
     *
     * @param context the backend's: the balancers and the gateway's locality its instances are read with
     */
    static HttpBackendSettings from(ConfigNode config, PluginContext context) {
        PoolSettings pool = PoolSettings.from(config, context, HTTP_SCHEMES, true);
        int maxConnections = config.integer("max-connections", 64, 1, 10_000);
        Duration connectTimeout = config.duration("connect-timeout", Duration.ofSeconds(1));
        Duration requestTimeout = config.duration("request-timeout", Duration.ofSeconds(30));
        if (requestTimeout.compareTo(connectTimeout) < 0) {
            // Timeouts are layered, each longer than the one it contains; the other way round is a slip.
            config.problem("request-timeout", "must not be shorter than connect-timeout ("
                    + connectTimeout.toMillis() + "ms), but was " + requestTimeout.toMillis() + "ms");
        }
        Duration idleTimeout = config.duration("idle-timeout", Duration.ofSeconds(60));
        Duration maxConnectionLifetime = config.duration("max-connection-lifetime", Duration.ofMinutes(5));
        Duration poolTimeout = config.duration("pool-timeout", connectTimeout);
        List<String> forwardHeaders = forwardHeaders(config);
        long maxResponseBytes = config.size("max-response-size", 64L << 20);
        if (maxResponseBytes > MAX_RESPONSE_SIZE_LIMIT) {
            config.problem("max-response-size", "must be at most 1GB, but was " + maxResponseBytes + " bytes");
            maxResponseBytes = MAX_RESPONSE_SIZE_LIMIT;
        }
        String modelName = config.string("model-name", null);
        String protocol = config.string("protocol", null);
        if (protocol != null && !PROTOCOLS.contains(protocol)) {
            config.problem("protocol", "must be one of " + String.join(", ", PROTOCOLS) + ", but was '" + protocol
                    + "'");
            protocol = null;
        }
        for (int i = 0; protocol != null && modelName == null && i < pool.instances().size(); i++) {
            // A whole call URL as an instance's url (a TF Serving predict URL) names the model too.
            java.util.regex.Matcher call = DialectPaths.callOf(protocol, pool.instances().get(i).url().getRawPath());
            modelName = call == null ? null : call.group(2);
        }
        return new HttpBackendSettings(pool, maxConnections, connectTimeout, requestTimeout, idleTimeout,
                maxConnectionLifetime, poolTimeout, forwardHeaders, (int) maxResponseBytes, modelName, protocol);
    }

    private static List<String> forwardHeaders(ConfigNode config) {
        List<String> forwardHeaders = config.has("forward-headers")
                ? config.strings("forward-headers")
                : DEFAULT_FORWARD_HEADERS;
        for (String name : forwardHeaders) {
            if (NOT_FORWARDED.contains(name.toLowerCase(Locale.ROOT))) {
                config.problem("forward-headers", "'" + name + "' cannot be forwarded: the connection to the backend "
                        + "sets its own");
            } else if (name.regionMatches(true, 0, GATEWAY_HEADER_PREFIX, 0, GATEWAY_HEADER_PREFIX.length())) {
                config.problem("forward-headers", "'" + name + "' cannot be forwarded: the gateway sets "
                        + GATEWAY_HEADER_PREFIX + "* headers itself, from the authenticated principal");
            } else if (name.equalsIgnoreCase(HttpBackend.TIMEOUT_HEADER)) {
                config.problem("forward-headers", "'" + name + "' cannot be forwarded: the gateway sends the time "
                        + "left until the request's deadline itself");
            }
        }
        return forwardHeaders;
    }
}
