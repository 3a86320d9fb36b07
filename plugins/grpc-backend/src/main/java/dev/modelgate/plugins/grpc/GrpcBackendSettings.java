package dev.modelgate.plugins.grpc;

import dev.modelgate.plugins.pool.PoolSettings;
import dev.modelgate.spi.ConfigNode;
import dev.modelgate.spi.PluginContext;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The validated configuration of one {@code grpc} backend.
 *
 * @param pool the instances ({@code grpc://host:port}, or {@code grpcs://host:port} over TLS), with their balancing,
 *     routing rules, health checks and ejection
 * @param protocol what the servers speak; {@code null} only when that was reported invalid
 * @param requestTimeout the longest one call may take, connecting included; a nearer deadline of the request cuts it
 * @param keepAliveTime how long a channel with calls in flight may be silent before it pings the server
 * @param keepAliveTimeout how long a ping may go unanswered before the connection is taken for dead
 * @param maxMessageBytes the largest answer taken; a larger one fails the call rather than being held in memory
 * @param forwardHeaders the request headers passed on as gRPC metadata, in lower case
 * @param modelName the model's name as the servers know it; {@code null} for the name clients use
 * @param tls the trust and client certificate for {@code grpcs} instances; {@code null} for the JVM's trust store and
 *     no client certificate
 */
record GrpcBackendSettings(
        PoolSettings pool,
        GrpcProtocol protocol,
        Duration requestTimeout,
        Duration keepAliveTime,
        Duration keepAliveTimeout,
        int maxMessageBytes,
        List<String> forwardHeaders,
        String modelName,
        Tls tls) {

    static final Set<String> SCHEMES = Set.of("grpc", "grpcs");

    /** gRPC frames a message's length in 31 bits; an answer this large is not a prediction anyway. */
    private static final long MAX_MESSAGE_SIZE_LIMIT = 1L << 30;

    private static final List<String> DEFAULT_FORWARD_HEADERS = List.of("x-request-id", "traceparent", "tracestate");

    /** Metadata gRPC itself or the gateway sets on every call: a client's value must never replace it. */
    private static final Set<String> NOT_FORWARDED = Set.of("grpc-timeout", "content-type", "te", "user-agent",
            "host", ":authority", "grpc-encoding", "grpc-accept-encoding", "authorization", "connection");

    /**
     * PEM files for TLS to the instances.
     *
     * @param caFile the certificates that may sign the servers' certificates; {@code null} for the JVM's
     * @param certFile the client's certificate chain, with {@code keyFile}, for servers that ask for one
     * @param keyFile the client's unencrypted PKCS#8 private key
     */
    record Tls(Path caFile, Path certFile, Path keyFile) {
    }

    /**
     * Reads and validates {@code config}, reporting each bad value by key and using its default instead.
     *
     * @param context the backend's: the balancers and the gateway's locality its instances are read with
     */
    static GrpcBackendSettings from(ConfigNode config, PluginContext context) {
        PoolSettings pool = PoolSettings.from(config, context, SCHEMES, false);
        String protocolName = config.string("protocol");
        GrpcProtocol protocol = GrpcProtocol.named(protocolName);
        if (protocol == null && !protocolName.isEmpty()) {
            config.problem("protocol", "must be one of " + String.join(", ", GrpcProtocol.NAMES) + ", but was '"
                    + protocolName + "'");
        }
        Duration requestTimeout = config.duration("request-timeout", Duration.ofSeconds(30));
        // gRPC servers refuse pings more often than every 5 minutes by default (grpc-java's and grpc-go's
        // permitKeepAliveTime) and close the connection with "too_many_pings".
        Duration keepAliveTime = config.duration("keep-alive-time", Duration.ofMinutes(5));
        Duration keepAliveTimeout = config.duration("keep-alive-timeout", Duration.ofSeconds(20));
        long maxMessageBytes = config.size("max-message-size", 64L << 20);
        if (maxMessageBytes > MAX_MESSAGE_SIZE_LIMIT) {
            config.problem("max-message-size", "must be at most 1GB, but was " + maxMessageBytes + " bytes");
            maxMessageBytes = MAX_MESSAGE_SIZE_LIMIT;
        }
        return new GrpcBackendSettings(pool, protocol, requestTimeout, keepAliveTime, keepAliveTimeout,
                (int) maxMessageBytes, forwardHeaders(config), config.string("model-name", null), tls(config, pool));
    }

    private static List<String> forwardHeaders(ConfigNode config) {
        if (!config.has("forward-headers")) {
            return DEFAULT_FORWARD_HEADERS;
        }
        List<String> names = config.strings("forward-headers").stream()
                .map(name -> name.toLowerCase(Locale.ROOT))
                .toList();
        for (String name : names) {
            if (NOT_FORWARDED.contains(name) || name.startsWith("x-modelgate-") || name.endsWith("-bin")) {
                config.problem("forward-headers", "'" + name + "' cannot be forwarded: gRPC or the gateway sets it,"
                        + " or it is binary metadata");
            }
        }
        return names;
    }

    private static Tls tls(ConfigNode config, PoolSettings pool) {
        if (!config.has("tls")) {
            return null;
        }
        if (pool.instances().stream().noneMatch(instance -> instance.url().getScheme().equalsIgnoreCase("grpcs"))) {
            config.problem("tls", "applies to grpcs:// instances, and there are none");
        }
        ConfigNode tls = config.child("tls");
        String ca = tls.string("ca-file", null);
        String cert = tls.string("cert-file", null);
        String key = tls.string("key-file", null);
        if ((cert == null) != (key == null)) {
            tls.problem(cert == null ? "cert-file" : "key-file", "a client certificate needs both cert-file and "
                    + "key-file");
        }
        return new Tls(ca == null ? null : Path.of(ca), cert == null || key == null ? null : Path.of(cert),
                cert == null || key == null ? null : Path.of(key));
    }
}
