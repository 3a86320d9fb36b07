package dev.modelgate.plugins.http;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.sun.net.httpserver.HttpServer;
import dev.modelgate.kernel.testing.Await;
import dev.modelgate.kernel.testing.IoThreads;
import dev.modelgate.spi.CoreErrors;
import dev.modelgate.spi.Headers;
import dev.modelgate.spi.RejectionException;
import dev.modelgate.spi.upstream.UpstreamPool;
import dev.modelgate.spi.upstream.UpstreamRequest;
import dev.modelgate.spi.upstream.UpstreamSettings;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The streamed body's ownership of its connection: ended once, however it ends, and never left leased. */
class StreamingBodyTest {

    private static final byte[] EVENT = "data: 1\n\n".getBytes(StandardCharsets.UTF_8);

    private final CountDownLatch over = new CountDownLatch(1);
    private final List<StreamingBody.End> ends = new CopyOnWriteArrayList<>();
    private HttpServer server;
    private final IoThreads io = new IoThreads();
    private UpstreamPool pool;

    /** An endless event stream (one event, then waiting for the test to end) and one short answer. */
    @BeforeEach
    void start() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        server.createContext("/events", exchange -> {
            try (exchange) {
                exchange.sendResponseHeaders(200, 0);
                exchange.getResponseBody().write(EVENT);
                exchange.getResponseBody().flush();
                over.await(10, TimeUnit.SECONDS);
            } catch (IOException | InterruptedException e) {
                // the client hung up
            }
        });
        server.createContext("/short", exchange -> {
            try (exchange) {
                exchange.sendResponseHeaders(200, 0);
                exchange.getResponseBody().write(EVENT);
            }
        });
        server.start();
        pool = io.upstream().open(URI.create("http://127.0.0.1:" + server.getAddress().getPort()),
                new UpstreamSettings(4, Duration.ofSeconds(1), Duration.ofSeconds(1), Duration.ofMinutes(1),
                        Duration.ofMinutes(5)));
    }

    @AfterEach
    void stop() throws Exception {
        over.countDown();
        pool.close();
        server.stop(0);
        io.close();
    }

    private StreamingBody open(String path, long limit) {
        UpstreamRequest request = new UpstreamRequest("GET", path, new Headers(), null,
                Duration.ofSeconds(10).toNanos(), 1 << 20, 64 * 1024);
        return new StreamingBody(pool.send(request).toCompletableFuture().join().stream(), limit,
                new StreamingBody.Listener() {
                    @Override
                    public void ended(StreamingBody.End end, IOException cause) {
                        ends.add(end);
                    }

                    @Override
                    public RuntimeException unreadable(StreamingBody.End end, IOException cause) {
                        return new RejectionException(CoreErrors.BACKEND_ERROR, end.name());
                    }
                });
    }

    private int leased() {
        return pool.leased();
    }

    /** The connection's end as the pool sees it, which a dropped stream tells its IO thread of. */
    private void awaitNoneLeased() {
        Await.until("no connection leased", () -> leased() == 0);
    }

    @Test
    void aBodyNobodyClaimsIsReleasedWhenAbandoned() throws Exception {
        StreamingBody body = open("/events", 1024);
        assertEquals(1, leased());

        body.abandon();
        body.abandon();

        assertEquals(List.of(StreamingBody.End.ABANDONED), ends);
        awaitNoneLeased();
        assertThrows(IOException.class, () -> body.writeTo(new ByteArrayOutputStream()));
        assertThrows(RejectionException.class, body::bytes);
        assertEquals(1, ends.size(), "ended once");
    }

    @Test
    void aClaimedBodyIsEndedByItsReaderNotByAbandon() throws Exception {
        StreamingBody claimed = open("/short", 1024);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        claimed.writeTo(out);
        claimed.abandon();

        assertArrayEquals(EVENT, out.toByteArray());
        assertEquals(List.of(StreamingBody.End.COMPLETE), ends);
        assertEquals(0, leased());
        assertEquals(1, pool.available(), "a complete stream gives its connection back");
    }

    @Test
    void aStreamPastTheLimitIsAbortedNotDrained() throws Exception {
        StreamingBody body = open("/events", EVENT.length - 1);

        assertThrows(IOException.class, () -> body.writeTo(OutputStream.nullOutputStream()));

        assertEquals(List.of(StreamingBody.End.TOO_LARGE), ends);
        awaitNoneLeased();
        assertEquals(0, pool.available(), "the connection was dropped");
    }

    @Test
    void aClientGoneAbortsTheBackendsStream() throws Exception {
        StreamingBody body = open("/events", 1024);
        OutputStream gone = new OutputStream() {
            @Override
            public void write(int b) throws IOException {
                throw new IOException("broken pipe");
            }
        };

        assertThrows(IOException.class, () -> body.writeTo(gone));

        assertEquals(List.of(StreamingBody.End.CLIENT_GONE), ends);
        awaitNoneLeased();
    }
}
