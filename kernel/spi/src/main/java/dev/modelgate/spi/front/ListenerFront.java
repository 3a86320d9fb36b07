package dev.modelgate.spi.front;

import java.io.IOException;
import java.time.Duration;
import javax.net.ssl.X509ExtendedKeyManager;

/**
 * A front's listener, started once the gateway is built and stopped with it. The gateway drains it with the API
 * listener: {@link #stopAccepting()} first, then {@link #awaitIdle} for what is in flight up to the shutdown timeout,
 * then {@link #close()}.
 */
public interface ListenerFront extends AutoCloseable {

    /** Opens the listener; calls go through {@code pipeline} from now on. */
    void start(Pipeline pipeline) throws IOException;

    /** The port it listens on, once started. */
    int port();

    /** Refuses new calls and connections (an HTTP/2 GOAWAY); calls and streams already open go on. */
    void stopAccepting();

    /**
     * Waits up to {@code timeout} for every open call and stream to end.
     *
     * @return {@code true} when none is left
     */
    boolean awaitIdle(Duration timeout) throws InterruptedException;

    /**
     * Takes the certificate and key that a reload re-read from {@code server.tls}: handshakes from now on present
     * them, connections already open keep theirs.
     *
     * @return {@code false} (the default) when this front cannot change them while it runs: the reload then reports
     *     {@code server.tls} as needing a restart
     */
    default boolean rotateTls(X509ExtendedKeyManager keys) {
        return false;
    }

    /** Ends whatever is still open (with an UNAVAILABLE status) and releases the port. Idempotent. */
    @Override
    void close();
}
