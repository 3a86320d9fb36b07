package dev.modelgate.kernel;

import dev.modelgate.spi.CoreErrors;
import dev.modelgate.spi.RejectionException;
import io.undertow.io.Receiver;
import io.undertow.server.HttpServerExchange;
import io.undertow.server.RequestTooBigException;
import java.util.function.Consumer;

/**
 * A request body read in full on the IO thread, or why it could not be: the pipeline then runs with the bytes in
 * hand and never blocks on the client.
 *
 * @param bytes the body, or {@code null} when {@code rejection} says why there is none
 * @param rejection what {@link RealExchange#body()} throws, or {@code null}
 */
record RequestBody(byte[] bytes, RejectionException rejection) {

    /**
     * Reads the body of {@code http} without blocking, bounded by {@code maxBytes}, then hands it to {@code then}:
     * at once when it is already buffered, else on the IO thread when the last byte arrives. A declared length over
     * the limit is refused before anything is read.
     */
    static void read(HttpServerExchange http, long maxBytes, Consumer<RequestBody> then) {
        if (http.getRequestContentLength() > maxBytes) {
            then.accept(tooLarge(maxBytes));
            return;
        }
        http.getRequestReceiver().setMaxBufferSize((int) Math.min(maxBytes, Integer.MAX_VALUE - 16));
        http.getRequestReceiver().receiveFullBytes(
                (exchange, bytes) -> then.accept(new RequestBody(bytes, null)),
                (exchange, error) -> then.accept(error instanceof Receiver.RequestToLargeException
                        || error instanceof RequestTooBigException ? tooLarge(maxBytes)
                        : new RequestBody(null, new RejectionException(CoreErrors.UNREADABLE_BODY,
                                "the connection failed while reading it"))));
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
