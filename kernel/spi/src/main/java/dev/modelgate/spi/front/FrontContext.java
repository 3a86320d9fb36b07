package dev.modelgate.spi.front;

import dev.modelgate.spi.ErrorCode;
import dev.modelgate.spi.Metrics;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/** What the kernel offers a {@link FrontProvider} while it builds its front: the server's settings and catalogue. */
public interface FrontContext {

    /** The bind address of the API listeners ({@code server.address}). */
    String address();

    /**
     * The port this front listens on, from {@code server.<type>-port} or the command line's {@code --<type>-port};
     * 0 turns the front off; {@link #ANY_FREE_PORT} (for tests and embedding) picks a free one.
     */
    int port();

    /** The port value that picks a free port. */
    int ANY_FREE_PORT = -1;

    /** The PEM certificate chain of {@code server.tls}, or {@code null} when the API is served in clear. */
    Path tlsCertFile();

    /** The PEM PKCS#8 private key of {@code server.tls}, or {@code null}. */
    Path tlsKeyFile();

    /** The largest request body (here: message) accepted, {@code server.max-body-size}. */
    long maxBodyBytes();

    /** How long in-flight calls may finish after SIGTERM, {@code server.shutdown-timeout}. */
    Duration shutdownTimeout();

    /** The gateway's version, for server metadata answers. */
    String serverVersion();

    /** The catalogue entry of {@code code}, which every response of the pipeline carries. */
    Optional<ErrorCode> errorCode(int code);

    Metrics metrics();

    System.Logger logger();
}
