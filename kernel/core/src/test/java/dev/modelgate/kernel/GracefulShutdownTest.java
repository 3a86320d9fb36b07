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
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class GracefulShutdownTest {

    private static final String BODY = "{\"instances\":[[1]]}";

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

        CompletableFuture<Boolean> drained = CompletableFuture.supplyAsync(() ->
                gateway.gateway().shutdown(Duration.ofSeconds(10)));
        Await.until("readiness turns down", () -> gateway.adminGet("/readyz").statusCode() == 503);
        HttpResponse<String> late = gateway.post("/v1/models/m:predict", "application/json", BODY);
        assertFalse(drained.isDone(), "shutdown waits while a request is in flight");
        EchoBackendProvider.release();

        assertEquals(503, late.statusCode());
        assertTrue(late.body().contains("\"code\":30001"), late.body());
        assertEquals(200, inFlight.get(10, TimeUnit.SECONDS).statusCode());
        assertTrue(drained.get(10, TimeUnit.SECONDS), "every in-flight request finished before the deadline");
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
