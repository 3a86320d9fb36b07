package dev.modelgate.kernel;

import dev.modelgate.spi.CoreErrors;
import dev.modelgate.spi.RejectionException;
import io.undertow.io.Receiver;
import io.undertow.server.HttpServerExchange;
import io.undertow.server.RequestTooBigException;
import io.undertow.util.SameThreadExecutor;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.xnio.XnioExecutor;

/**
 * A request body read in full on the IO thread, or why it could not be: the pipeline then runs with the bytes in
 * hand and never blocks on the client.
 *
 * @param bytes the body, or {@code null} when {@code rejection} says why there is none
 * @param rejection what {@link RealExchange#body()} throws, or {@code null}
 */
record RequestBody(byte[] bytes, RejectionException rejection) {

    /**
     * Reads the body of {@code http} without blocking, bounded by {@code maxBytes} and by {@code timeout}, then hands
     * it to {@code then} exactly once: at once when it is already buffered, else on the IO thread when the last byte
     * arrives or the time is up. A declared length over the limit is refused before anything is read; a body that
     * trickles in past the timeout (a slow-body attack) is refused and the connection closed.
     */
    static void read(HttpServerExchange http, long maxBytes, Duration timeout, Consumer<RequestBody> then) {
        if (http.getRequestContentLength() > maxBytes) {
            http.setPersistent(false);
            then.accept(tooLarge(maxBytes));
            return;
        }
        // Callbacks and the timer all run on this connection's IO thread, so a plain flag decides which is first.
        boolean[] settled = new boolean[1];
        XnioExecutor.Key[] timer = new XnioExecutor.Key[1];
        Consumer<RequestBody> once = body -> {
            if (!settled[0]) {
                settled[0] = true;
                if (timer[0] != null) {
                    timer[0].remove();
                }
                if (body.rejection() != null) {
                    http.setPersistent(false);
                }
                then.accept(body);
            } else if (!http.isDispatched()) {
                // Undertow's receiver keeps reading after reporting a body too large, and calls back again from
                // inside a root handler call, which ends the exchange unless it is dispatched: that would answer an
                // empty 200 under the request already being served. A no-op dispatch keeps the exchange open.
                http.dispatch(SameThreadExecutor.INSTANCE, () -> { });
            }
        };
        http.getRequestReceiver().setMaxBufferSize((int) Math.min(maxBytes, Integer.MAX_VALUE - 16));
        http.getRequestReceiver().receiveFullBytes(
                (exchange, bytes) -> once.accept(new RequestBody(bytes, null)),
                (exchange, error) -> once.accept(error instanceof Receiver.RequestToLargeException
                        || error instanceof RequestTooBigException ? tooLarge(maxBytes)
                        : new RequestBody(null, new RejectionException(CoreErrors.UNREADABLE_BODY,
                                "the connection failed while reading it"))));
        if (!settled[0]) {
            timer[0] = http.getIoThread().executeAfter(() -> once.accept(new RequestBody(null,
                    new RejectionException(CoreErrors.BODY_TIMEOUT, "the limit is " + timeout.toMillis() + "ms"))),
                    timeout.toMillis(), TimeUnit.MILLISECONDS);
        }
    }

    private static RequestBody tooLarge(long maxBytes) {
        return new RequestBody(null,
                new RejectionException(CoreErrors.BODY_TOO_LARGE, "the limit is " + maxBytes + " bytes"));
    }

    /** The bytes, or the rejection thrown. */
    byte[] bytesOrThrow() {
        if (rejection != null) {
            throw rejection;
        }
        return bytes;
    }
}
