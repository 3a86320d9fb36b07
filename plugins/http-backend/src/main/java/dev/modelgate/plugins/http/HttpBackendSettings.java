package dev.modelgate.plugins.http;

import dev.modelgate.spi.ConfigNode;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The validated configuration of one {@code http} backend.
 *
 * @param url where predict requests are posted; {@code null} when the configured one was reported invalid
 * @param maxConnections the most connections open to the backend at once; callers beyond it wait for one
 * @param connectTimeout how long to wait for a connection to be established
 * @param requestTimeout how long to wait for the backend's response once the request is sent
 * @param idleTimeout how long an unused pooled connection is kept
 * @param maxConnectionLifetime how long any connection is used before it is replaced, so DNS changes take effect
 * @param poolTimeout how long a request waits for a free connection when all are in use
 * @param forwardHeaders the request headers passed on to the backend
 * @param maxResponseBytes the largest response body taken; a larger one is refused rather than held in memory
 * @param modelName the model's name as the backend knows it, for metadata; may be {@code null}
 */
record HttpBackendSettings(
        URI url,
        int maxConnections,
        Duration connectTimeout,
        Duration requestTimeout,
        Duration idleTimeout,
        Duration maxConnectionLifetime,
        Duration poolTimeout,
        List<String> forwardHeaders,
        int maxResponseBytes,
        String modelName) {

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

    /** Reads and validates {@code config}, reporting each bad value by key and using its default instead. */
    static HttpBackendSettings from(ConfigNode config) {
        URI url = url(config);
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
            }
        }
        long maxResponseBytes = config.size("max-response-size", 64L << 20);
        if (maxResponseBytes > MAX_RESPONSE_SIZE_LIMIT) {
            config.problem("max-response-size", "must be at most 1GB, but was " + maxResponseBytes + " bytes");
            maxResponseBytes = MAX_RESPONSE_SIZE_LIMIT;
        }
        String modelName = config.string("model-name", null);
        return new HttpBackendSettings(url, maxConnections, connectTimeout, requestTimeout, idleTimeout,
                maxConnectionLifetime, poolTimeout, forwardHeaders, (int) maxResponseBytes, modelName);
    }

    private static URI url(ConfigNode config) {
        String text = config.string("url");
        if (text.isEmpty()) {
            return null;
        }
        try {
            URI url = new URI(text);
            String scheme = url.getScheme();
            if (scheme != null && (scheme.equalsIgnoreCase("http") || scheme.equalsIgnoreCase("https"))
                    && url.getHost() != null) {
                return url;
            }
        } catch (URISyntaxException e) {
            // Reported below, with the message every malformed value gets.
        }
        config.problem("url", "must be an absolute http or https URL, but was '" + text + "'");
        return null;
    }
}
