package dev.modelgate.plugins.jwt;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A JWKS endpoint on 127.0.0.1 that serves a document until told to answer 200 and then never finish the body in
 * time. Records whether a client hung up before a body was over, which is how the fetch should give up.
 */
final class UnfinishedJwks implements AutoCloseable {

    /** How the endpoint answers. */
    enum Answer {
        /** The document, whole. */
        DOCUMENT,
        /** The start of a document, then a space every {@link #DRIP_PAUSE}, for {@link #DRIPS} pauses. */
        DRIP,
        /** {@link #ENDLESS_BYTES} of spaces after the start of a document, as fast as the client reads them. */
        ENDLESS
    }

    static final Duration DRIP_PAUSE = Duration.ofMillis(50);
    /** Twenty seconds of dripping: a fetch that reads it all has no deadline, but the test still ends. */
    static final int DRIPS = 400;
    /** Far over the largest document a fetch accepts, yet small enough to read whole when that limit is missing. */
    static final int ENDLESS_BYTES = 64 << 20;

    private final HttpServer server;
    private final String document;
    private final AtomicReference<Answer> answer = new AtomicReference<>(Answer.DOCUMENT);
    private final AtomicInteger calls = new AtomicInteger();
    private final CountDownLatch hungUp = new CountDownLatch(1);
    private final CountDownLatch closed = new CountDownLatch(1);

    private UnfinishedJwks(HttpServer server, String document) {
        this.server = server;
        this.document = document;
    }

    static UnfinishedJwks start(String document) throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        UnfinishedJwks endpoint = new UnfinishedJwks(server, document);
        server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        server.createContext("/", endpoint::serve);
        server.start();
        return endpoint;
    }

    void answer(Answer next) {
        answer.set(next);
    }

    private void serve(HttpExchange exchange) throws IOException {
        try (exchange) {
            calls.incrementAndGet();
            exchange.getResponseHeaders().set("Content-Type", "application/json");
            Answer now = answer.get();
            byte[] whole = document.getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(200, now == Answer.DOCUMENT ? whole.length : 0);
            OutputStream body = exchange.getResponseBody();
            if (now == Answer.DOCUMENT) {
                body.write(whole);
                return;
            }
            body.write('{');
            body.flush();
            if (now == Answer.DRIP) {
                drip(body);
            } else {
                stream(body);
            }
        } catch (IOException e) {
            hungUp.countDown();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void drip(OutputStream body) throws IOException, InterruptedException {
        for (int i = 0; i < DRIPS && !closed.await(DRIP_PAUSE.toMillis(), TimeUnit.MILLISECONDS); i++) {
            body.write(' ');
            body.flush();
        }
    }

    private void stream(OutputStream body) throws IOException {
        byte[] spaces = " ".repeat(1 << 16).getBytes(StandardCharsets.US_ASCII);
        for (int sent = 0; sent < ENDLESS_BYTES && closed.getCount() > 0; sent += spaces.length) {
            body.write(spaces);
        }
    }

    String url() {
        return "http://127.0.0.1:" + server.getAddress().getPort() + "/jwks.json";
    }

    int calls() {
        return calls.get();
    }

    /** Whether a client closed its connection before the body it was sent was over, waiting up to {@code wait}. */
    boolean hungUpWithin(Duration wait) throws InterruptedException {
        return hungUp.await(wait.toMillis(), TimeUnit.MILLISECONDS);
    }

    @Override
    public void close() {
        closed.countDown();
        server.stop(0);
    }
}
