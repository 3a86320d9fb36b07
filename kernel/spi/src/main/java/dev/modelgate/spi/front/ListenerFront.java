package dev.modelgate.spi.front;

import java.io.IOException;
import java.time.Duration;

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

    /** Ends whatever is still open (with an UNAVAILABLE status) and releases the port. Idempotent. */
    @Override
    void close();
}
