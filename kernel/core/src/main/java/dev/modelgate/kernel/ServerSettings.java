package dev.modelgate.kernel;

import dev.modelgate.spi.ConfigNode;
import java.nio.file.Path;
import dev.modelgate.spi.ClientAddress;
import java.time.Duration;
import java.util.Optional;

/**
 * The listeners and request limits, from the {@code server} section. Every limit has a safe default.
 *
 * @param address the API listener's bind address
 * @param port the API port; 0 picks a free one
 * @param adminAddress the admin listener's bind address, loopback unless configured otherwise
 * @param adminPort the admin port; 0 picks a free one
 * @param grpcPort the gRPC front's port; 0 turns it off, {@link dev.modelgate.spi.front.FrontContext#ANY_FREE_PORT}
 *     picks a free one
 * @param maxBodyBytes the largest request body accepted; larger ones are answered 413
 * @param maxHeaderBytes the largest request line and headers accepted; larger ones are answered 431
 * @param maxHeaderCount the most header lines accepted; more are answered 431
 * @param maxUriBytes the longest request target accepted; longer ones are answered 414
 * @param headerTimeout how long a client may take to send its request line and headers (slowloris)
 * @param bodyTimeout how long a client may take to send its whole body, however it trickles
 * @param idleTimeout how long a connection may sit without traffic before it is closed
 * @param http2MaxConcurrentStreams the most streams one HTTP/2 connection may have open at once
 * @param shutdownTimeout how long in-flight requests may run on after SIGTERM
 * @param drainDelay how long the listener stays open after SIGTERM, answering 503, while load balancers notice that
 *     readiness turned down
 * @param ioThreads Undertow IO threads: the listeners', the upstream pools', and proxied predicts whose pipeline
 *     never blocks
 * @param tls the HTTPS settings of the API listener, or {@code null} for plain HTTP
 * @param gzipMinBytes the smallest answer compressed for clients that accept gzip
 * @param clientAddress how a request's client address is found: {@code trusted-proxies}, the peers whose
 *     {@code X-Forwarded-For} is believed, for the access log, the rate limiter and balancing alike
 * @param locality the gateway's own region, zone or cluster, whose backend instances take traffic first; empty when
 *     not configured
 */
public record ServerSettings(String address, int port, String adminAddress, int adminPort, int grpcPort,
        long maxBodyBytes, int maxHeaderBytes, int maxHeaderCount, int maxUriBytes, Duration headerTimeout,
        Duration bodyTimeout, Duration idleTimeout, int http2MaxConcurrentStreams, Duration shutdownTimeout,
        Duration drainDelay, int ioThreads, Tls tls, long gzipMinBytes, ClientAddress clientAddress,
        Optional<String> locality) {

    /**
     * An HTTPS listener's certificate chain and private key, both PEM files.
     *
     * @param certFile the certificate chain, leaf first
     * @param keyFile the unencrypted PKCS#8 private key ({@code BEGIN PRIVATE KEY})
     */
    public record Tls(Path certFile, Path keyFile) {
    }

    /** The hard cap on a request's head, whatever is configured: 1 MiB. */
    static final long MAX_HEAD_BYTES = 1L << 20;

    static ServerSettings from(ConfigNode server, CommandLine overrides) {
        int port = server.integer("port", 8080, 0, 65535);
        int adminPort = server.integer("admin-port", 9090, 0, 65535);
        int grpcPort = server.integer("grpc-port", 8081, 0, 65535);
        return new ServerSettings(
                server.string("address", "0.0.0.0"),
                overrides.port() != null ? overrides.port() : port,
                server.string("admin-address", "127.0.0.1"),
                overrides.adminPort() != null ? overrides.adminPort() : adminPort,
                overrides.grpcPort() != null ? overrides.grpcPort() : grpcPort,
                server.size("max-body-size", 10L << 20),
                (int) Math.min(server.size("max-header-size", 16L << 10), MAX_HEAD_BYTES),
                server.integer("max-header-count", 100, 1, 10_000),
                (int) Math.min(server.size("max-uri-length", 8L << 10), MAX_HEAD_BYTES),
                server.duration("header-timeout", Duration.ofSeconds(10)),
                server.duration("body-timeout", Duration.ofSeconds(30)),
                server.duration("idle-timeout", Duration.ofSeconds(60)),
                server.integer("http2-max-concurrent-streams", 100, 1, 10_000),
                server.duration("shutdown-timeout", Duration.ofSeconds(20)),
                server.duration("drain-delay", Duration.ZERO),
                server.integer("io-threads", defaultIoThreads(), 1, 1024),
                tls(server.child("tls")),
                server.size("gzip-min-size", 1L << 10),
                ClientAddress.fromConfig(server, "trusted-proxies"),
                locality(server));
    }

    /**
     * Twice the cores: requests run their pipelines on the IO threads, and a thread descheduled by the machine's
     * other work (the model server beside the gateway, the clients of a test) holds every connection it serves.
     * Measured on 2 cores shared with wrk and the backend, bare route at 32 connections, five rounds each
     * alternating with nginx: 4 threads against 2 took the median p99 from 4.3 ms to 2.0 ms (nginx's 3.3 ms) at the
     * same CPU per request.
     */
    private static int defaultIoThreads() {
        return Math.max(2, 2 * Runtime.getRuntime().availableProcessors());
    }

    private static Optional<String> locality(ConfigNode server) {
        String locality = server.string("locality", null);
        if (locality == null || locality.isBlank()) {
            // Blank too: `locality: ${MODELGATE_LOCALITY:-}` leaves it unset where the variable is.
            return Optional.empty();
        }
        return Optional.of(locality.strip());
    }

    private static Tls tls(ConfigNode tls) {
        if (tls.keys().isEmpty()) {
            return null;
        }
        Tls settings = new Tls(Path.of(tls.string("cert-file")), Path.of(tls.string("key-file")));
        TlsContexts.check(settings, tls);
        return settings;
    }
}
