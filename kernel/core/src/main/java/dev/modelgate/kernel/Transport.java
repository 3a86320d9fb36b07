package dev.modelgate.kernel;

import java.util.function.Consumer;

/**
 * What a {@link RealExchange} needs of the connection a request came in on: the API listener's Undertow exchange
 * ({@link UndertowTransport}) or a listener front's call ({@link ListenerFronts}).
 */
interface Transport {

    /** Upper-case HTTP method; a listener front's calls are {@code POST}s. */
    String method();

    /** The normalised path, or the full method name of a gRPC call. */
    String path();

    /** The first value of query parameter {@code name}, or {@code null}. */
    String queryParameter(String name);

    /** The IP address of the connection's peer (a proxy, maybe), or an empty string when unknown. */
    String peerAddress();

    /**
     * Runs {@code done} once, when the client has the whole answer or writing it failed (then with the failure).
     * Called at most once per exchange.
     */
    void whenComplete(Consumer<Throwable> done);

    /** Runs {@code gone} once if the client goes away before the answer is complete; never when it cannot tell. */
    default void whenClientGone(Runnable gone) {
    }
}
