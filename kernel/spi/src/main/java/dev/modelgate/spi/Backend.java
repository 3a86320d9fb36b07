package dev.modelgate.spi;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * A model server, reached over the network or run in process. The last step of a route's pipeline.
 *
 * <p>Thread-safety: called concurrently from many virtual threads. {@link #close()} is called once, when the gateway
 * stops or the configuration that built it is replaced, after in-flight calls have finished.
 */
public interface Backend extends AutoCloseable {

    /**
     * Serves a predict request. The response carries the backend's own status, content type and body (a TensorFlow
     * Serving style {@code {"predictions": ...}} or {@code {"outputs": ...}} object for the gateway's API); the kernel
     * maps it to the gateway's envelope. A request the model cannot take is answered with {@code exchange.error(...)}.
     *
     * @throws BackendException when no response could be had
     */
    Response predict(Exchange exchange) throws BackendException;

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

    /** Status and metadata of the model for {@code GET /v1/models/{name}}; an empty object when the backend has none. */
    JsonNode metadata();

    @Override
    default void close() {
    }
}
