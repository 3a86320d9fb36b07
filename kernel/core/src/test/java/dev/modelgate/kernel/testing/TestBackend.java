package dev.modelgate.kernel.testing;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.modelgate.spi.Headers;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A real in-process HTTP server on 127.0.0.1 that speaks whatever its handler answers: a stand-in model server.
 * Counts calls, keeps the last request, and records the client ports it saw (one per connection).
 */
public final class TestBackend implements AutoCloseable {

    /** One request as the backend received it. */
    public record Request(String method, String path, Headers headers, byte[] body, int clientPort) {
        public String bodyText() {
            return new String(body, StandardCharsets.UTF_8);
        }
    }

    /** What the backend answers, optionally after a delay. */
    public record Reply(int status, String contentType, String body, Duration delay) {
        public Reply(int status, String contentType, String body) {
            this(status, contentType, body, Duration.ZERO);
        }

        public static Reply json(int status, String body) {
            return new Reply(status, "application/json", body);
        }

        public static Reply delayed(Duration delay, int status, String contentType, String body) {
            return new Reply(status, contentType, body, delay);
        }
    }

    @FunctionalInterface
    public interface Handler {
        Reply handle(Request request) throws Exception;
    }

    private final HttpServer server;
    private final AtomicInteger calls = new AtomicInteger();
    private final AtomicInteger inFlight = new AtomicInteger();
    private final AtomicInteger maxInFlight = new AtomicInteger();
    private final AtomicReference<Request> lastRequest = new AtomicReference<>();
    private final Set<Integer> clientPorts = ConcurrentHashMap.newKeySet();
    /** Counted down on close, so delayed replies end with the backend rather than outlive the test. */
    private final CountDownLatch closing = new CountDownLatch(1);

    private TestBackend(HttpServer server) {
        this.server = server;
    }

    public static TestBackend start(Handler handler) throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        TestBackend backend = new TestBackend(server);
        server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        server.createContext("/", exchange -> backend.serve(exchange, handler));
        server.start();
        return backend;
    }

    private void serve(HttpExchange exchange, Handler handler) throws IOException {
        try (exchange) {
            Headers headers = new Headers();
            exchange.getRequestHeaders().forEach((name, values) -> values.forEach(value -> headers.add(name, value)));
            Request request = new Request(exchange.getRequestMethod(), exchange.getRequestURI().getPath(), headers,
                    exchange.getRequestBody().readAllBytes(), exchange.getRemoteAddress().getPort());
            calls.incrementAndGet();
            lastRequest.set(request);
            clientPorts.add(request.clientPort());
            Reply reply = reply(handler, request);
            byte[] body = reply.body().getBytes(StandardCharsets.UTF_8);
            if (reply.contentType() != null) {
                exchange.getResponseHeaders().set("Content-Type", reply.contentType());
            }
            exchange.sendResponseHeaders(reply.status(), body.length == 0 ? -1 : body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        } catch (IOException e) {
            // the gateway gave up on this call (a timeout test): nothing to answer
        }
    }

    /**
     * Runs the handler, counted as in flight until it has its reply: counting until the response is written would
     * overlap with the client's next request on the same connection, which the client sends as soon as it has read.
     */
    private Reply reply(Handler handler, Request request) {
        int now = inFlight.incrementAndGet();
        maxInFlight.accumulateAndGet(now, Math::max);
        try {
            Reply reply = handler.handle(request);
            if (!reply.delay().isZero()) {
                // A model server busy for the delay, or until this backend is closed, whichever comes first.
                closing.await(reply.delay().toNanos(), TimeUnit.NANOSECONDS);
            }
            return reply;
        } catch (Exception e) {
            return new Reply(500, "text/plain", "test backend handler failed: " + e);
        } finally {
            inFlight.decrementAndGet();
        }
    }

    /** The URL of {@code path} on this backend. */
    public String url(String path) {
        return "http://127.0.0.1:" + server.getAddress().getPort() + path;
    }

    public int port() {
        return server.getAddress().getPort();
    }

    public int calls() {
        return calls.get();
    }

    public Request lastRequest() {
        return lastRequest.get();
    }

    /** The most requests this backend served at the same time. */
    public int maxConcurrentCalls() {
        return maxInFlight.get();
    }

    /** How many distinct client connections (by client port) reached this backend. */
    public int distinctConnections() {
        return clientPorts.size();
    }

    @Override
    public void close() {
        closing.countDown();
        server.stop(0);
    }
}
