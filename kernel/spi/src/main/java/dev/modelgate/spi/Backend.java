package dev.modelgate.spi;

import dev.modelgate.spi.inference.ModelMetadata;

/**
 * A model server, reached over the network or run in process: the last step of a route's pipeline. A backend is one
 * of two kinds, or both: an {@link dev.modelgate.spi.inference.InferenceBackend} takes decoded requests, whatever
 * dialect the client speaks; a {@link ProxyBackend} forwards the client's bytes when the client speaks its dialect.
 *
 * <p>Thread-safety: called concurrently from many virtual threads. {@link #close()} is called once, when the gateway
 * stops or the configuration that built it is replaced, after in-flight calls have finished.
 */
public interface Backend extends AutoCloseable {

    /**
     * The longest one call may take, connecting included, when the backend bounds it: the kernel checks at load
     * that a route's {@code timeout} is longer. Empty for a backend without its own bound.
     */
    default java.util.Optional<java.time.Duration> callTimeout() {
        return java.util.Optional.empty();
    }

    /**
     * Whether the backend can serve now, as far as it knows (a remote backend with health checks: some instance
     * passes them). {@code /readyz} reports not ready while any backend says no. Cheap and non-blocking: called on
     * every readiness probe.
     */
    default boolean ready() {
        return true;
    }

    /**
     * What the backend knows of {@code model}: its inputs, outputs and versions. Fronts answer metadata requests with
     * it, and decoders use it to name an unnamed input and to type JSON numbers. {@code null} when the backend does
     * not know (a proxy to a server it does not ask).
     *
     * @param exchange the request that needs it, for its deadline and headers when the backend must be asked
     * @throws BackendException when the backend had to be asked and could not answer
     */
    default ModelMetadata metadata(String model, Exchange exchange) throws BackendException {
        return null;
    }

    @Override
    default void close() {
    }
}
