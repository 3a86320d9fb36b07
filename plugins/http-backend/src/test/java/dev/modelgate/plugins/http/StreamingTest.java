package dev.modelgate.plugins.http;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.modelgate.kernel.testing.Await;
import dev.modelgate.kernel.testing.RawBackend;
import dev.modelgate.kernel.testing.RunningGateway;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * Answers passed through as they arrive, through the KServe v2 front to a KServe v2 backend: events reach the client
 * one by one, large answers whole, broken streams end, and every call gives its connection back.
 */
class StreamingTest {

    private static final byte[] FIRST = "data: {\"token\":\"Hello\"}\n\n".getBytes(StandardCharsets.UTF_8);
    private static final byte[] SECOND = "data: {\"token\":\"world\"}\n\n".getBytes(StandardCharsets.UTF_8);
    private static final String INSTANCE = "127.0.0.1";
    private static final HttpClient CLIENT = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    /** A model server whose handler writes the answer itself: chunks, flushes, waits. */
    @FunctionalInterface
    private interface Answer {
        void write(HttpExchange exchange) throws Exception;
    }

    private static HttpServer server(Answer answer) throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        server.createContext("/v2/models/m/infer", exchange -> {
            try (exchange) {
                exchange.getRequestBody().readAllBytes();
                answer.write(exchange);
            } catch (Exception e) {
                // the gateway hung up, or the test is over
            }
        });
        server.start();
        return server;
    }

    /** A model server that sends {@code head} and {@code first}, then dies once the client has read them. */
    private static RawBackend dyingHalfway(String head, byte[] first, CountDownLatch firstRead) throws IOException {
        return new RawBackend(head, out -> {
            out.write(first);
            out.flush();
            firstRead.await(10, TimeUnit.SECONDS);
        });
    }

    private static RunningGateway gateway(int port, String settings) throws Exception {
        return RunningGateway.start("""
                backends:
                  ks:
                    type: http
                    protocol: kserve-v2
                    url: http://127.0.0.1:%d
                %s
                routes:
                  - model: m
                    backend: ks
                """.formatted(port, settings.stripIndent().indent(4)));
    }

    private static HttpResponse<InputStream> infer(RunningGateway gateway) throws Exception {
        return CLIENT.send(HttpRequest.newBuilder(gateway.uri("/v2/models/m/infer"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(
                        "{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[1],\"data\":[1.0]}]}"))
                .timeout(Duration.ofSeconds(30))
                .build(), HttpResponse.BodyHandlers.ofInputStream());
    }

    private static double instance(RunningGateway gateway, String metric, int port) {
        return gateway.metrics().value(metric, Map.of("backend", "ks", "instance", INSTANCE + ":" + port));
    }

    /** The call is over on the gateway's side: off the instance's count, its connection back or dropped. */
    private static void assertCallEnded(RunningGateway gateway, int port) {
        Await.until("no call in flight", () -> instance(gateway, "modelgate_backend_instance_in_flight", port) == 0);
        Await.until("no leased connection", () -> gateway.metrics().value("modelgate_backend_connections",
                Map.of("backend", "ks", "state", "leased")) == 0);
    }

    @Test
    void eachEventReachesTheClientBeforeTheBackendSendsTheNext() throws Exception {
        CountDownLatch firstRead = new CountDownLatch(1);
        AtomicBoolean readBeforeSecond = new AtomicBoolean();
        HttpServer backend = server(exchange -> {
            exchange.getResponseHeaders().set("Content-Type", "text/event-stream");
            exchange.sendResponseHeaders(200, 0);
            OutputStream out = exchange.getResponseBody();
            out.write(FIRST);
            out.flush();
            readBeforeSecond.set(firstRead.await(10, TimeUnit.SECONDS));
            out.write(SECOND);
        });
        try (RunningGateway gateway = gateway(backend.getAddress().getPort(), "")) {
            HttpResponse<InputStream> response = infer(gateway);

            try (InputStream body = response.body()) {
                assertEquals(200, response.statusCode());
                assertEquals("text/event-stream", response.headers().firstValue("Content-Type").orElseThrow());
                assertArrayEquals(FIRST, body.readNBytes(FIRST.length));
                assertEquals(1, instance(gateway, "modelgate_backend_instance_in_flight",
                        backend.getAddress().getPort()), "the call lasts as long as its stream");
                firstRead.countDown();
                assertArrayEquals(SECOND, body.readAllBytes());
            }
            assertTrue(readBeforeSecond.get(), "the client had the first event before the backend sent the second");
            assertCallEnded(gateway, backend.getAddress().getPort());
            assertEquals(0, instance(gateway, "modelgate_backend_instance_failures_total",
                    backend.getAddress().getPort()));
        } finally {
            backend.stop(0);
        }
    }

    @Test
    void aChunkedAnswerIsReadWholeForTheGatewaysEnvelope() throws Exception {
        HttpServer backend = server(exchange -> {
            exchange.getResponseHeaders().set("Content-Type", "application/json");
            exchange.sendResponseHeaders(200, 0);
            exchange.getResponseBody().write("{\"predictions\":".getBytes(StandardCharsets.UTF_8));
            exchange.getResponseBody().flush();
            exchange.getResponseBody().write("[[0.25]]}".getBytes(StandardCharsets.UTF_8));
        });
        try (RunningGateway gateway = RunningGateway.start(Gateways.config(
                "url: http://127.0.0.1:%d/v2/models/m/infer".formatted(backend.getAddress().getPort()), ""))) {
            HttpResponse<String> response = Gateways.predict(gateway);

            assertEquals(200, response.statusCode(), response.body());
            assertEquals(Gateways.JSON.readTree("{\"code\":0,\"message\":\"success\",\"data\":"
                    + Gateways.PREDICTIONS + "}"), Gateways.JSON.readTree(response.body()));
        } finally {
            backend.stop(0);
        }
    }

    @Test
    void aLargeAnswerPassesThroughWholeWithItsLength() throws Exception {
        byte[] large = new byte[5 * 1024 * 1024];
        new Random(7).nextBytes(large);
        HttpServer backend = server(exchange -> {
            exchange.getResponseHeaders().set("Content-Type", "application/octet-stream");
            exchange.sendResponseHeaders(200, large.length);
            exchange.getResponseBody().write(large);
        });
        try (RunningGateway gateway = gateway(backend.getAddress().getPort(), "")) {
            HttpResponse<InputStream> response = infer(gateway);

            try (InputStream body = response.body()) {
                assertEquals(200, response.statusCode());
                assertEquals(Long.toString(large.length),
                        response.headers().firstValue("Content-Length").orElseThrow());
                assertArrayEquals(large, body.readAllBytes());
            }
            assertCallEnded(gateway, backend.getAddress().getPort());
        } finally {
            backend.stop(0);
        }
    }

    @Test
    void aBackendDyingMidStreamCutsTheClientsStreamAndCountsAgainstTheInstance() throws Exception {
        CountDownLatch firstRead = new CountDownLatch(1);
        String head = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n";
        byte[] chunk = (Integer.toHexString(FIRST.length) + "\r\n" + new String(FIRST, StandardCharsets.UTF_8)
                + "\r\n").getBytes(StandardCharsets.UTF_8);
        try (RawBackend backend = dyingHalfway(head, chunk, firstRead);
                RunningGateway gateway = gateway(backend.port(), "")) {
            HttpResponse<InputStream> response = infer(gateway);

            try (InputStream body = response.body()) {
                assertArrayEquals(FIRST, body.readNBytes(FIRST.length));
                firstRead.countDown();
                assertThrows(IOException.class, body::readAllBytes,
                        "a cut connection, never the last chunk of a complete-looking answer");
            }
            Await.until("the failure counted", () -> instance(gateway, "modelgate_backend_instance_failures_total",
                    backend.port()) == 1);
            assertCallEnded(gateway, backend.port());
        }
    }

    @Test
    void aBackendBreakingItsDeclaredLengthLeavesTheClientACutConnection() throws Exception {
        CountDownLatch firstRead = new CountDownLatch(1);
        byte[] first = new byte[1000];
        try (RawBackend backend = dyingHalfway("HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
                        + "Content-Length: 100000\r\n\r\n", first, firstRead);
                RunningGateway gateway = gateway(backend.port(), "")) {
            HttpResponse<InputStream> response = infer(gateway);

            try (InputStream body = response.body()) {
                assertEquals("100000", response.headers().firstValue("Content-Length").orElseThrow());
                assertArrayEquals(first, body.readNBytes(first.length));
                firstRead.countDown();
                assertThrows(IOException.class, body::readAllBytes, "a short body the client can tell from a whole");
            }
            Await.until("the failure counted", () -> instance(gateway, "modelgate_backend_instance_failures_total",
                    backend.port()) == 1);
            assertCallEnded(gateway, backend.port());
        }
    }

    /** A backend that sends the first event of a stream, then waits until {@code over} before ending it. */
    private static HttpServer firstEventThenWait(CountDownLatch over) throws IOException {
        return server(exchange -> {
            exchange.getResponseHeaders().set("Content-Type", "text/event-stream");
            exchange.sendResponseHeaders(200, 0);
            exchange.getResponseBody().write(FIRST);
            exchange.getResponseBody().flush();
            over.await(10, TimeUnit.SECONDS);
        });
    }

    @Test
    void aStreamNobodyWritesIsReleasedWhenTheExchangeEnds() throws Exception {
        CountDownLatch over = new CountDownLatch(1);
        HttpServer backend = firstEventThenWait(over);
        try (RunningGateway gateway = gateway(backend.getAddress().getPort(), """
                request-timeout: 1m
                filters:
                  - type: answer-instead
                """)) {
            HttpResponse<InputStream> response = infer(gateway);

            try (InputStream body = response.body()) {
                assertArrayEquals("{}".getBytes(StandardCharsets.UTF_8), body.readAllBytes());
            }
            assertCallEnded(gateway, backend.getAddress().getPort());
            assertEquals(0, instance(gateway, "modelgate_backend_instance_failures_total",
                    backend.getAddress().getPort()), "an answer nobody wanted is no fault of the instance");
        } finally {
            over.countDown();
            backend.stop(0);
        }
    }

    @Test
    void aStreamIsCutAtTheRequestTimeout() throws Exception {
        CountDownLatch over = new CountDownLatch(1);
        HttpServer backend = firstEventThenWait(over);
        try (RunningGateway gateway = gateway(backend.getAddress().getPort(), """
                connect-timeout: 200ms
                request-timeout: 500ms
                """)) {
            long start = System.nanoTime();
            HttpResponse<InputStream> response = infer(gateway);

            try (InputStream body = response.body()) {
                assertArrayEquals(FIRST, body.readNBytes(FIRST.length));
                try {
                    body.readAllBytes();
                } catch (IOException cut) {
                    // cut: as good as an end
                }
            }
            long took = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertTrue(took < 5_000, "the stream ended at the request timeout, not the backend's pace: " + took);
            assertCallEnded(gateway, backend.getAddress().getPort());
            assertEquals(1, instance(gateway, "modelgate_backend_instance_failures_total",
                    backend.getAddress().getPort()));
        } finally {
            over.countDown();
            backend.stop(0);
        }
    }
}
