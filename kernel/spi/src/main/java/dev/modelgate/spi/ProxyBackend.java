package dev.modelgate.spi;

/**
 * A backend that forwards the client's bytes to a model server that speaks the client's dialect, and passes the
 * answer back as it comes: no parse, no re-encode. The kernel takes this path when the front's dialect is
 * {@link #dialect()}; a backend that is also an {@link dev.modelgate.spi.inference.InferenceBackend} serves the other
 * dialects through codecs.
 *
 * <p>Called concurrently from many virtual threads; calls may block.
 */
public interface ProxyBackend extends Backend {

    /** The dialect of the bodies it forwards, as codecs name it: {@code tf-serving}, {@code kserve-v2}. */
    String dialect();

    /**
     * Forwards the request ({@link Exchange#body()}, its content type and the call named by
     * {@link Exchange#verb()}) and returns the backend's own status, headers and body. A body of unknown length is
     * streamed to the client as it arrives. A request the backend cannot take is answered with
     * {@code exchange.error(...)}.
     *
     * @throws BackendException when no response could be had
     */
    Response forward(Exchange exchange) throws BackendException;

    /**
     * Whether {@link #forwardAsync} is implemented: the backend's I/O then runs on the gateway's own IO threads, and
     * a route of {@linkplain PhasedMiddleware phased} steps to it is served without a virtual thread.
     */
    default boolean forwardsAsync() {
        return false;
    }

    /**
     * {@link #forward}, without blocking the calling thread, which may be one of the gateway's IO threads. The stage
     * completes with the answer, or exceptionally with a {@link BackendException} or a {@link RejectionException},
     * on whichever thread the answer came; a streamed body is then read, as with {@link #forward}, by a thread that
     * may block, unless it is a {@link PushBody}, which the IO thread writes as it comes. Called only when
     * {@link #forwardsAsync()} says so.
     */
    default java.util.concurrent.CompletionStage<Response> forwardAsync(Exchange exchange) {
        throw new UnsupportedOperationException(getClass().getName() + " forwards by blocking only");
    }
}
