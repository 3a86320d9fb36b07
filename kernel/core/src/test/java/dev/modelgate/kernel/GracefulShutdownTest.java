package dev.modelgate.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.modelgate.kernel.fixtures.EchoBackendProvider;
import dev.modelgate.kernel.testing.Await;
import dev.modelgate.kernel.testing.RunningGateway;
import java.io.IOException;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class GracefulShutdownTest {

    private static final String BODY = "{\"instances\":[[1]]}";

    /** Reads one answer's head and its Content-Length body; returns the head. */
    private static String readHead(java.io.InputStream in) throws IOException {
        StringBuilder head = new StringBuilder();
        while (!head.toString().endsWith("\r\n\r\n")) {
            int next = in.read();
            if (next < 0) {
                break;
            }
            head.append((char) next);
        }
        java.util.regex.Matcher length = java.util.regex.Pattern.compile("(?i)content-length: *(\\d+)")
                .matcher(head);
        in.readNBytes(length.find() ? Integer.parseInt(length.group(1)) : 0);
        return head.toString();
    }

    @Test
    void shutdownFinishesInFlightRequestsAndTurnsNewOnesAway() throws Exception {
        EchoBackendProvider.resetGate();
        RunningGateway gateway = RunningGateway.start("""
                backends:
                  slow:
                    type: echo
                    hold: true
                routes:
                  - model: m
                    backend: slow
                """);
        int port = gateway.port();
        CompletableFuture<HttpResponse<String>> inFlight = CompletableFuture.supplyAsync(() ->
                gateway.post("/v1/models/m:predict", "application/json", BODY));
        Await.until("the request reaches the backend", () -> EchoBackendProvider.held() == 1);
        try (Socket acceptedBefore = new Socket("127.0.0.1", port)) {
            // One answer on it first: the connection is then surely accepted, not waiting in the backlog.
            acceptedBefore.getOutputStream().write("GET /v1/models HTTP/1.1\r\nHost: localhost\r\n\r\n"
                    .getBytes(StandardCharsets.ISO_8859_1));
            java.io.InputStream answers = acceptedBefore.getInputStream();
            assertTrue(readHead(answers).startsWith("HTTP/1.1 200"));
            CompletableFuture<Boolean> drained = CompletableFuture.supplyAsync(() ->
                    gateway.gateway().shutdown(Duration.ofSeconds(10)));
            Await.until("readiness turns down", () -> gateway.adminGet("/readyz").statusCode() == 503);
            acceptedBefore.getOutputStream().write(("POST /v1/models/m:predict HTTP/1.1\r\nHost: localhost\r\n"
                    + "Content-Type: application/json\r\nContent-Length: " + BODY.length() + "\r\n\r\n" + BODY)
                    .getBytes(StandardCharsets.ISO_8859_1));
            String late = new String(answers.readAllBytes(), StandardCharsets.ISO_8859_1);
            assertFalse(drained.isDone(), "shutdown waits while a request is in flight");
            EchoBackendProvider.release();

            assertTrue(late.startsWith("HTTP/1.1 503"), late);
            assertTrue(late.contains("\"code\":30001"), late);
            assertTrue(late.toLowerCase(java.util.Locale.ROOT).contains("connection: close"), late);
            HttpResponse<String> answered = inFlight.get(10, TimeUnit.SECONDS);
            assertEquals(200, answered.statusCode());
            assertEquals("close", answered.headers().firstValue("Connection").orElse(""),
                    "an answer given while draining closes its connection");
            assertTrue(drained.get(10, TimeUnit.SECONDS), "every in-flight request finished before the deadline");
        }
        assertThrows(IOException.class, () -> new Socket("127.0.0.1", port).close());
    }

    @Test
    void shutdownGivesUpOnRequestsThatOutliveTheDeadline() throws Exception {
        EchoBackendProvider.resetGate();
        RunningGateway gateway = RunningGateway.start("""
                backends:
                  stuck:
                    type: echo
                    hold: true
                routes:
                  - model: m
                    backend: stuck
                """);
        CompletableFuture.runAsync(() -> gateway.post("/v1/models/m:predict", "application/json", BODY));
        Await.until("the request reaches the backend", () -> EchoBackendProvider.held() == 1);
        try {
            long start = System.nanoTime();

            assertFalse(gateway.gateway().shutdown(Duration.ofMillis(300)));
            long waited = System.nanoTime() - start;
            assertTrue(waited >= TimeUnit.MILLISECONDS.toNanos(300), "waited the whole deadline: " + waited);
            assertTrue(waited < TimeUnit.SECONDS.toNanos(5), "the deadline bounds the wait: " + waited);
        } finally {
            EchoBackendProvider.release();
        }
    }
}
