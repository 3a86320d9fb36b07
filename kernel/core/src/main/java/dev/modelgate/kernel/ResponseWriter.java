package dev.modelgate.kernel;

import dev.modelgate.spi.PushBody;
import dev.modelgate.spi.Response;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.AttachmentKey;
import io.undertow.util.HeaderMap;
import io.undertow.util.Headers;
import io.undertow.util.HttpString;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.util.concurrent.RejectedExecutionException;
import org.xnio.ChannelListeners;
import org.xnio.IoUtils;
import org.xnio.channels.StreamSinkChannel;
import org.xnio.streams.ChannelOutputStream;

/**
 * Writes a {@link Response} and ends the exchange. A body of known length is written by the IO thread without
 * blocking, and so is a {@link PushBody} ({@link PushWriter}); any other streaming body is written by the calling
 * virtual thread, which may block on a slow client, and ended by the IO thread.
 */
final class ResponseWriter {

    private static final System.Logger LOG = System.getLogger(ResponseWriter.class.getName());
    /** Why writing an answer failed, for {@link RealExchange#onComplete} listeners; absent when it did not. */
    static final AttachmentKey<Throwable> WRITE_FAILURE = AttachmentKey.create(Throwable.class);
    private static final Response INTERNAL_ERROR =
            GatewayFront.INSTANCE.error(dev.modelgate.spi.CoreErrors.INTERNAL, null);

    private ResponseWriter() {
    }

    /** Writes {@code response} as it is, never compressed (the admin listener's answers). */
    static void write(HttpServerExchange http, Response response) {
        write(http, response, Long.MAX_VALUE);
    }

    /**
     * Writes {@code response}; a buffered body of at least {@code gzipMinBytes} goes gzip-compressed to a client that
     * accepts it (compressed here, on the calling thread, not on the IO thread).
     */
    static void write(HttpServerExchange http, Response response, long gzipMinBytes) {
        if (response.body() instanceof PushBody pushed) {
            Response answer = response;
            onIoThread(http, () -> writePushed(http, answer, pushed));
            return;
        }
        if (response.body().length() < 0) {
            writeStreaming(http, response);
            return;
        }
        byte[] bytes;
        try {
            // On the calling thread: Body.writeTo may block, and the IO thread must not.
            bytes = response.body().bytes();
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.ERROR, "a response body failed to produce its bytes", e);
            response = INTERNAL_ERROR;
            bytes = response.body().bytes();
        }
        if (bytes.length >= gzipMinBytes && response.header("Content-Encoding") == null
                && ContentEncoding.acceptsGzip(http.getRequestHeaders().getFirst(Headers.ACCEPT_ENCODING))) {
            bytes = ContentEncoding.gzip(bytes);
            response = response.withHeader("Content-Encoding", "gzip").withHeader("Vary", "Accept-Encoding");
        }
        Response head = response;
        byte[] body = bytes;
        if (http.isInIoThread()) {
            writeBuffered(http, head, body);
        } else {
            http.getIoThread().execute(() -> writeBuffered(http, head, body));
        }
    }

    /** Writes a pushed body's answer, on the IO thread. */
    private static void writePushed(HttpServerExchange http, Response response, PushBody body) {
        try {
            head(http, response);
        } catch (RuntimeException e) {
            // A header value Undertow refuses, say: the body goes, the client gets an answer.
            LOG.log(System.Logger.Level.ERROR, "writing the response failed", e);
            body.cancel();
            http.getResponseHeaders().clear();
            writeBuffered(http, INTERNAL_ERROR, INTERNAL_ERROR.body().bytes());
            return;
        }
        PushWriter.start(http, body);
    }

    private static void head(HttpServerExchange http, Response response) {
        http.setStatusCode(response.status());
        HeaderMap headers = http.getResponseHeaders();
        response.forEachHeader((name, value) -> headers.add(HttpString.tryFromString(name), value));
    }

    private static void writeBuffered(HttpServerExchange http, Response response, byte[] bytes) {
        try {
            head(http, response);
            http.getResponseHeaders().put(Headers.CONTENT_LENGTH, bytes.length);
            http.getResponseSender().send(ByteBuffer.wrap(bytes));
        } catch (RuntimeException e) {
            // A header value Undertow refuses, say: the client still gets an answer, and the exchange ends.
            LOG.log(System.Logger.Level.ERROR, "writing the response failed", e);
            http.putAttachment(WRITE_FAILURE, e);
            if (!http.isResponseStarted()) {
                http.getResponseHeaders().clear();
                http.setStatusCode(500);
            }
            http.endExchange();
        }
    }

    /**
     * Streams the body. The output is closed (ending a chunked answer with its last chunk) only when the whole body
     * was written, or when the body says with a {@link dev.modelgate.spi.StreamFailedException} that it told the
     * client of its failure itself: any other body that fails midway closes the connection instead, so the client
     * sees a cut answer, never a complete-looking one.
     *
     * <p>The body is written on the calling thread, blocking on a slow client, straight to the response channel; the
     * answer is ended on the IO thread, without blocking. Ended on the calling thread (closing Undertow's blocking
     * output stream), the last chunk reached the client before Undertow had re-armed the connection for its next
     * request, and a keep-alive client's next request then found the IO thread's read listener in that transient
     * state, where it spins until the other thread is done: 10-13% of the gateway's CPU with 32 LLM streams, longer
     * when that thread was preempted, and every connection of the IO thread waiting meanwhile.
     */
    private static void writeStreaming(HttpServerExchange http, Response response) {
        StreamSinkChannel channel = null;
        try {
            head(http, response);
            channel = http.getResponseChannel();
            // The JDK's default size: on a virtual thread a buffer of 512 bytes that grows to 8 KB when a body
            // writes that much between flushes, where a fixed 16 KB one cost every stream its allocation.
            OutputStream out = new BufferedOutputStream(new ChannelOutputStream(channel));
            try {
                response.body().writeTo(out);
            } catch (dev.modelgate.spi.StreamFailedException e) {
                // The body told the client already: its answer ends whole, and the listeners learn of the failure.
                http.putAttachment(WRITE_FAILURE, e);
                LOG.log(System.Logger.Level.DEBUG, () -> "a streamed answer failed midway: " + e);
            }
            out.flush();
        } catch (IOException e) {
            cut(http, e);
            LOG.log(System.Logger.Level.DEBUG, () -> "writing the response failed: " + e);
        } catch (RuntimeException e) {
            cut(http, e);
            LOG.log(System.Logger.Level.ERROR, "a streaming response body failed", e);
        }
        StreamSinkChannel written = channel;
        onIoThread(http, () -> end(http, written));
    }

    /** Ends a streamed answer on the IO thread: its last chunk, once the channel takes it, then the exchange. */
    static void end(HttpServerExchange http, StreamSinkChannel channel) {
        if (channel == null || !channel.isOpen()) {
            http.endExchange();
            return;
        }
        try {
            channel.shutdownWrites();
            if (channel.flush()) {
                http.endExchange();
                return;
            }
            // The client is slow to read the last bytes: the channel finishes them when it can.
            channel.getWriteSetter().set(ChannelListeners.flushingChannelListener(
                    flushed -> http.endExchange(), (failed, e) -> {
                        cut(http, e);
                        http.endExchange();
                    }));
            channel.resumeWrites();
        } catch (IOException e) {
            cut(http, e);
            http.endExchange();
        }
    }

    /**
     * Runs {@code task} on {@code http}'s IO thread: at once when called there, here when that thread has stopped (the
     * gateway is stopping).
     */
    private static void onIoThread(HttpServerExchange http, Runnable task) {
        if (http.isInIoThread()) {
            task.run();
            return;
        }
        try {
            http.getIoThread().execute(task);
        } catch (RejectedExecutionException e) {
            task.run();
        }
    }

    static void cut(HttpServerExchange http, Exception failure) {
        http.putAttachment(WRITE_FAILURE, failure);
        IoUtils.safeClose(http.getConnection());
    }
}
