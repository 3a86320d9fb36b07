package dev.modelgate.spi.upstream;

import java.util.concurrent.CompletionStage;

/** Keep-alive connections to one server; thread-safe. */
public interface UpstreamPool extends AutoCloseable {

    /**
     * Sends {@code request} on a connection of the calling thread's IO thread (another's when the caller is not one)
     * and completes with the answer, or exceptionally with an {@link UpstreamException}, on that IO thread. Never
     * blocks. A call abandoned by its caller still ends at its timeout; cancelling the returned stage before it
     * completes ends the call at once, its connection closed (a caller's own shorter limit on the answer's head).
     */
    CompletionStage<UpstreamAnswer> send(UpstreamRequest request);

    /** Connections in use now. */
    int leased();

    /** Connections open and idle now. */
    int available();

    /** Calls waiting for a connection now. */
    int pending();

    /** Refuses new calls ({@link UpstreamException.Kind#CLOSED}) and closes idle connections; calls in flight end. */
    @Override
    void close();
}
