package dev.modelgate.plugins.batching;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.modelgate.kernel.testing.RunningGateway;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Clients that go away while their requests wait in the batching queue: a real gateway, the batching filter with one
 * batch slot, and a KServe v2 stand-in that holds its first call (so every slot is busy) and records the first value
 * of each row it is sent. Clients connect over raw sockets, send a whole request, and close (or reset) their
 * connection while it queues: their rows must never reach the stand-in, while a client that stays gets its answer.
 */
class ClientGoneTest {

    private static final Duration WITHIN = Duration.ofSeconds(20);
    /** A gateway whose backend {@code remote} is the stand-in, behind the batching filter. */
    private static String config(KServeStandIn backend) {
        return BatchingTest.config(backend.url(), "max-batch-size: 16");
    }

    private static String row(float value) {
        return "{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[1,2],\"data\":[" + value + "," + value
                + "]}]}";
    }

    /** Connects and sends a whole predict request with the row {@code [value, value]}, reading nothing. */
    private static Socket sendAndWait(RunningGateway gateway, float value) throws IOException {
        Socket socket = new Socket(InetAddress.getLoopbackAddress(), gateway.port());
        byte[] body = row(value).getBytes(StandardCharsets.UTF_8);
        OutputStream out = socket.getOutputStream();
        out.write(("POST /v2/models/remote/infer HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                + "Content-Length: " + body.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        out.write(body);
        out.flush();
        return socket;
    }

    /** Sends a request with the row {@code [100, 100]} and waits until the stand-in holds it. */
    private static CompletableFuture<HttpResponse<String>> occupyTheBatchSlot(KServeStandIn backend,
            RunningGateway gateway, ExecutorService clients) throws InterruptedException {
        CompletableFuture<HttpResponse<String>> first = CompletableFuture.supplyAsync(() -> gateway.post(
                "/v2/models/remote/infer", "application/json", row(100)), clients);
        assertTrue(backend.firstCallArrived.await(WITHIN.toSeconds(), TimeUnit.SECONDS));
        return first;
    }

    private static void awaitQueued(RunningGateway gateway, int depth) {
        gateway.awaitMetric("modelgate_batching_queue_depth{backend=\"remote\"} " + depth, WITHIN);
    }

    @Test
    void requestsOfClientsThatCloseOrResetWhileQueuedAreNeverSent() throws Exception {
        try (KServeStandIn backend = new KServeStandIn(true, call -> 0);
                RunningGateway gateway = RunningGateway.start(config(backend));
                ExecutorService clients = Executors.newVirtualThreadPerTaskExecutor()) {
            CompletableFuture<HttpResponse<String>> first = occupyTheBatchSlot(backend, gateway, clients);
            Socket closes = sendAndWait(gateway, 1);
            awaitQueued(gateway, 1);
            CompletableFuture<HttpResponse<String>> stays = CompletableFuture.supplyAsync(() -> gateway.post(
                    "/v2/models/remote/infer", "application/json", row(2)), clients);
            awaitQueued(gateway, 2);
            Socket halfCloses = sendAndWait(gateway, 3);
            Socket resets = sendAndWait(gateway, 4);
            awaitQueued(gateway, 4);

            closes.close();
            halfCloses.shutdownOutput();
            resets.setSoLinger(true, 0);
            resets.close();

            gateway.awaitMetric("modelgate_batching_abandoned_total{backend=\"remote\"} 3", WITHIN);
            awaitQueued(gateway, 1);
            backend.release.countDown();
            assertEquals(200, first.get(WITHIN.toSeconds(), TimeUnit.SECONDS).statusCode());
            HttpResponse<String> stayed = stays.get(WITHIN.toSeconds(), TimeUnit.SECONDS);
            assertEquals(200, stayed.statusCode(), stayed::body);
            assertTrue(stayed.body().contains("\"data\":[20.0,20.0]"), stayed::body);
            assertEquals(List.of(100f, 2f), backend.rowsSeen, "the rows the stand-in was sent");
            assertEquals(List.of(1L, 1L), backend.batchRows);
            halfCloses.close();
        }
    }

    @Test
    void aClientThatPipelinesItsNextRequestIsNotTakenForGone() throws Exception {
        try (KServeStandIn backend = new KServeStandIn(true, call -> 0);
                RunningGateway gateway = RunningGateway.start(config(backend));
                ExecutorService clients = Executors.newVirtualThreadPerTaskExecutor()) {
            CompletableFuture<HttpResponse<String>> first = occupyTheBatchSlot(backend, gateway, clients);
            try (Socket pipelining = sendAndWait(gateway, 5)) {
                awaitQueued(gateway, 1);
                byte[] body = row(6).getBytes(StandardCharsets.UTF_8);
                pipelining.getOutputStream().write(("POST /v2/models/remote/infer HTTP/1.1\r\nHost: localhost\r\n"
                        + "Content-Type: application/json\r\nContent-Length: " + body.length + "\r\nConnection: close"
                        + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                pipelining.getOutputStream().write(body);
                pipelining.getOutputStream().flush();

                backend.release.countDown();

                String answers = new String(pipelining.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                assertEquals(2, answers.split("HTTP/1.1 200 ", -1).length - 1, answers);
                assertTrue(answers.contains("\"data\":[50.0,50.0]"), answers);
                assertTrue(answers.contains("\"data\":[60.0,60.0]"), answers);
            }
            assertEquals(200, first.get(WITHIN.toSeconds(), TimeUnit.SECONDS).statusCode());
            assertEquals(List.of(100f, 5f, 6f), backend.rowsSeen);
            gateway.assertMetric("modelgate_batching_abandoned_total{backend=\"remote\"} 0");
        }
    }
}
