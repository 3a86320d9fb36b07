package dev.modelgate.spi.front;

import dev.modelgate.spi.ErrorCode;
import dev.modelgate.spi.Metrics;
import java.time.Duration;
import javax.net.ssl.X509ExtendedKeyManager;
import java.util.Optional;

/** What the kernel offers a {@link FrontProvider} while it builds its front: the server's settings and catalogue. */
public interface FrontContext {

    /** The bind address of the API listeners ({@code server.address}). */
    String address();

    /**
     * The port of the gateway's own-port listener, {@code server.grpc-port} (8081) or the command line's
     * {@code --grpc-port}: named after the one front that listens on a port of its own today. 0 turns the front off;
     * {@link #ANY_FREE_PORT} (for tests and embedding) picks a free one.
     */
    int port();

    /** The port value that picks a free port. */
    int ANY_FREE_PORT = -1;

    /**
     * The certificate and key of {@code server.tls} as a key manager, or {@code null} when the API is served in clear:
     * a front that serves from it can take the ones a reload re-reads ({@link ListenerFront#rotateTls}).
     */
    X509ExtendedKeyManager tlsKeyManager();

    /** The largest request body (here: message) accepted, {@code server.max-body-size}. */
    long maxBodyBytes();

    /** The largest request metadata (headers) accepted, {@code server.max-header-size}. */
    int maxHeaderBytes();

    /** How long a connection may sit without calls before it is closed, {@code server.idle-timeout}. */
    Duration idleTimeout();

    /** The most calls one connection may have open at once, {@code server.http2-max-concurrent-streams}. */
    int maxConcurrentStreams();

    /** How long in-flight calls may finish after SIGTERM, {@code server.shutdown-timeout}. */
    Duration shutdownTimeout();

    /** The gateway's version, for server metadata answers. */
    String serverVersion();

    /** The catalogue entry of {@code code}, which every response of the pipeline carries. */
    Optional<ErrorCode> errorCode(int code);

    Metrics metrics();

    System.Logger logger();
}
