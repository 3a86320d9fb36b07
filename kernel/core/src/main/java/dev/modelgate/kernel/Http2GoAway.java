package dev.modelgate.kernel;

import io.undertow.protocols.http2.Http2Channel;
import io.undertow.server.HttpServerExchange;
import io.undertow.server.ServerConnection;
import io.undertow.server.protocol.http2.Http2ServerConnection;
import java.lang.reflect.Field;

/**
 * Sends GOAWAY on an HTTP/2 connection while the gateway drains: the client opens no new stream on it and moves to
 * another instance, while the streams it already has are answered. HTTP/2's counterpart of {@code Connection: close}.
 *
 * <p>Undertow keeps the connection's {@link Http2Channel} in a private field of {@link Http2ServerConnection} and has no
 * public way to it, so it is read by reflection; if a later Undertow renames it, drains go on without GOAWAY (logged
 * once) and the connections close at the end as before. {@link Http2Channel#sendGoAway} sends once per connection.
 */
final class Http2GoAway {

    private static final System.Logger LOG = System.getLogger(Http2GoAway.class.getName());
    private static final Field CHANNEL = channelField();

    private Http2GoAway() {
    }

    private static Field channelField() {
        try {
            Field field = Http2ServerConnection.class.getDeclaredField("channel");
            field.setAccessible(true);
            return field;
        } catch (ReflectiveOperationException | RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "this Undertow hides its HTTP/2 channel: drains send no GOAWAY", e);
            return null;
        }
    }

    /**
     * On an HTTP/2 exchange, sends GOAWAY (no error) once its answer is complete: after the answer's frames (Undertow
     * sends no frame of a stream after its GOAWAY) and before the exchange counts as finished, so that a drain waiting
     * for it cannot close the connection first. Elsewhere, nothing.
     */
    static void afterAnswer(HttpServerExchange http) {
        ServerConnection connection = http.getConnection();
        if (!(connection instanceof Http2ServerConnection) || CHANNEL == null) {
            return;
        }
        // Completion listeners run last added first, on the IO thread: before the in-flight count lets go.
        http.addExchangeCompleteListener((exchange, next) -> {
            try {
                ((Http2Channel) CHANNEL.get(connection)).sendGoAway(Http2Channel.ERROR_NO_ERROR);
            } catch (IllegalAccessException | RuntimeException e) {
                LOG.log(System.Logger.Level.DEBUG, () -> "no GOAWAY sent: " + e);
            } finally {
                next.proceed();
            }
        });
    }
}
