package dev.modelgate.kernel;

import dev.modelgate.spi.Response;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.HeaderMap;
import io.undertow.util.Headers;
import io.undertow.util.HttpString;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;

/**
 * Writes a {@link Response} and ends the exchange. A body of known length is written by the IO thread without
 * blocking; a streaming body is written by the calling virtual thread, which may block on a slow client.
 */
final class ResponseWriter {

    private static final System.Logger LOG = System.getLogger(ResponseWriter.class.getName());

    private ResponseWriter() {
    }

    static void write(HttpServerExchange http, Response response) {
        if (response.body().length() < 0) {
            writeStreaming(http, response);
        } else if (http.isInIoThread()) {
            writeBuffered(http, response);
        } else {
            http.getIoThread().execute(() -> writeBuffered(http, response));
        }
    }

    private static void head(HttpServerExchange http, Response response) {
        http.setStatusCode(response.status());
        HeaderMap headers = http.getResponseHeaders();
        response.forEachHeader((name, value) -> headers.add(HttpString.tryFromString(name), value));
    }

    private static void writeBuffered(HttpServerExchange http, Response response) {
        head(http, response);
        byte[] bytes = response.body().bytes();
        http.getResponseHeaders().put(Headers.CONTENT_LENGTH, bytes.length);
        http.getResponseSender().send(ByteBuffer.wrap(bytes));
    }

    private static void writeStreaming(HttpServerExchange http, Response response) {
        head(http, response);
        http.startBlocking();
        try (OutputStream out = http.getOutputStream()) {
            response.body().writeTo(out);
        } catch (IOException e) {
            LOG.log(System.Logger.Level.DEBUG, () -> "writing the response failed: " + e);
        } finally {
            http.endExchange();
        }
    }
}
