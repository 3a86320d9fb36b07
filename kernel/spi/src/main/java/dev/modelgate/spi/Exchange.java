package dev.modelgate.spi;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * One request as it travels through the pipeline, with the state middlewares attach to it.
 *
 * <p>Thread-safety: an exchange belongs to the one virtual thread serving the request; it is not safe to share with
 * other threads. Request headers are mutable so that middlewares can add what backends should see (a request id) and
 * remove what clients must not set.
 */
public interface Exchange {

    /** Upper-case HTTP method. */
    String method();

    /** The normalised request path, without the query string. */
    String path();

    /** The first value of query parameter {@code name}, or {@code null}. */
    String queryParameter(String name);

    /** The request headers; changes are visible to later middlewares and to the backend. */
    Headers requestHeaders();

    /**
     * The client's IP address: the connection's peer, or, when the peer is one of {@code server.trusted-proxies}, the
     * address its {@code X-Forwarded-For} names (see {@link ClientAddress}).
     */
    String clientAddress();

    /** The IP address of the connection's peer: the client, or the proxy in front of it. */
    String peerAddress();

    Operation operation();

    /** The model named in the path, or {@code null} for {@link Operation#LIST_MODELS}. */
    String model();

    /**
     * The dialect of the front the request came in on, as codecs name it: {@code modelgate} (the gateway's own API),
     * {@code tf-serving}, {@code kserve-v2}.
     */
    String dialect();

    /** The model version the request names ({@code /versions/3}), or {@code null} when it names none. */
    String modelVersion();

    /**
     * What the call asks of the model in its dialect's words: {@code predict}, {@code classify}, {@code regress},
     * {@code infer}, {@code metadata}, {@code ready}, ...
     */
    String verb();

    /** The gateway API version the request speaks: {@code v1}, {@code v2}. */
    String apiVersion();

    /** The configured name of the backend serving this request, or {@code null} when it reaches none. */
    String backendName();

    /** {@link System#nanoTime()} when the gateway received the request. */
    long startNanos();

    /**
     * The {@link System#nanoTime()} by which the answer is due: the route's {@code timeout}, shortened by the
     * client's {@code X-Request-Timeout}; {@link Long#MAX_VALUE} when neither is set. Backends bound their calls by
     * it and pass what remains on.
     */
    long deadlineNanos();

    /** Whether the request may be sent again without harm: a GET, or a route configured {@code idempotent: true}. */
    boolean idempotent();

    /**
     * The request body. The kernel reads it in full, without blocking, before the pipeline starts.
     *
     * @throws RejectionException with {@link CoreErrors#BODY_TOO_LARGE} past the configured limit
     */
    byte[] body();

    /**
     * The request body parsed as JSON, parsed on first call and cached.
     *
     * @throws RejectionException when the content type is not JSON or the body is not well-formed JSON
     */
    JsonNode json();

    /**
     * Registers {@code listener} to run once the client has the whole answer, or its writing failed (then with the
     * failure, else with {@code null}): after the last byte of a streamed answer, not when its headers leave. Runs on
     * whatever thread finished the exchange; must not block.
     */
    void onComplete(java.util.function.Consumer<Throwable> listener);

    /**
     * Registers {@code listener} to run once if the client goes away before its answer is complete: it closes or
     * resets its HTTP/1.1 connection (a half-close counts), or cancels its gRPC call. A filter or backend that holds the
     * request (a queue, a wait) can then drop it instead of doing work nobody will read. Runs on whatever thread
     * noticed, typically an IO thread: it must not block. Transports that cannot tell (HTTP/2 streams) never run it.
     */
    default void onClientGone(Runnable listener) {
    }

    <T> T attribute(Attribute<T> key);

    <T> void setAttribute(Attribute<T> key, T value);

    /**
     * An error response for {@code errorCode}, in the shape the client's API expects, with the code's HTTP status.
     *
     * @param detail client-safe detail appended to the code's summary; may be {@code null}
     */
    Response error(ErrorCode errorCode, String detail);
}
