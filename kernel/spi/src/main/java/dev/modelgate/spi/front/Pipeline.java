package dev.modelgate.spi.front;

import dev.modelgate.spi.Response;

/**
 * The kernel's request pipeline, as a {@link ListenerFront} reaches it: routing, the global and route middlewares,
 * the backend filters and the backend, exactly as for a request on the API listener. Thread-safe.
 */
public interface Pipeline {

    /**
     * Runs {@code request} on the calling thread (a virtual thread: it blocks) and returns its answer, whose body is
     * in memory. Never throws: every failure is an error {@link Response} whose {@link Response#code()} is its
     * catalogue code, with the code's HTTP status and the client-safe message as a UTF-8 {@code text/plain} body.
     * Headers the middlewares set on the answer ({@code X-Request-Id}, rate-limit counts) are on it.
     */
    Response serve(FrontRequest request);

    /** Whether the gateway takes calls: started and not draining. */
    boolean ready();

    /** The models some route serves. */
    java.util.Set<String> models();

    /**
     * Whether {@code model} is served and its backend ready to answer now.
     *
     * @return empty when no route serves {@code model}
     */
    java.util.Optional<Boolean> modelReady(String model);
}
