package dev.modelgate.plugins.http;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.sun.net.httpserver.HttpServer;
import dev.modelgate.spi.CoreErrors;
import dev.modelgate.spi.RejectionException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.apache.hc.client5.http.classic.methods.HttpGet;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.client5.http.impl.classic.HttpClients;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManager;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManagerBuilder;
import org.apache.hc.core5.http.ClassicHttpResponse;
import org.apache.hc.core5.pool.PoolConcurrencyPolicy;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The streamed body's ownership of its connection: ended once, however it ends, and never left leased. */
class StreamingBodyTest {

    private static final byte[] EVENT = "data: 1\n\n".getBytes(StandardCharsets.UTF_8);

    private final CountDownLatch over = new CountDownLatch(1);
    private final List<StreamingBody.End> ends = new CopyOnWriteArrayList<>();
    private HttpServer server;
    private PoolingHttpClientConnectionManager pool;
    private CloseableHttpClient client;

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
        pool = PoolingHttpClientConnectionManagerBuilder.create()
                .setPoolConcurrencyPolicy(PoolConcurrencyPolicy.LAX).build();
        client = HttpClients.custom().setConnectionManager(pool).build();
    }

    @AfterEach
    void stop() throws IOException {
        over.countDown();
        client.close();
        server.stop(0);
    }

    private StreamingBody open(String path, long limit) throws IOException {
        HttpGet request = new HttpGet("http://127.0.0.1:" + server.getAddress().getPort() + path);
        ClassicHttpResponse response = client.executeOpen(null, request, null);
        return new StreamingBody(response, response.getEntity().getContent(), limit, request::cancel,
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
        return pool.getTotalStats().getLeased();
    }

    @Test
    void aBodyNobodyClaimsIsReleasedWhenAbandoned() throws Exception {
        StreamingBody body = open("/events", 1024);
        assertEquals(1, leased());

        body.abandon();
        body.abandon();

        assertEquals(List.of(StreamingBody.End.ABANDONED), ends);
        assertEquals(0, leased());
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
        assertEquals(1, pool.getTotalStats().getAvailable(), "a complete stream gives its connection back");
    }

    @Test
    void aStreamPastTheLimitIsAbortedNotDrained() throws Exception {
        StreamingBody body = open("/events", EVENT.length - 1);

        assertThrows(IOException.class, () -> body.writeTo(OutputStream.nullOutputStream()));

        assertEquals(List.of(StreamingBody.End.TOO_LARGE), ends);
        assertEquals(0, leased());
        assertEquals(0, pool.getTotalStats().getAvailable(), "the connection was dropped");
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
        assertEquals(0, leased());
    }
}
