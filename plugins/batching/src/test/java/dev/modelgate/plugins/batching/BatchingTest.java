package dev.modelgate.plugins.batching;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.modelgate.kernel.Deployment;
import dev.modelgate.kernel.testing.Await;
import dev.modelgate.kernel.testing.RunningGateway;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real gateway with the batching filter on an http backend in front of a real KServe v2 stand-in. The stand-in holds
 * its first call, so that the requests sent meanwhile queue, then lets go: what it sees next is the batches.
 */
class BatchingTest {

    private static final Duration WITHIN = Duration.ofSeconds(20);

    static String config(String url, String filterSettings) {
        return config(url, filterSettings, "");
    }

    /** @param routeSettings lines under the route, such as its middlewares */
    private static String config(String url, String filterSettings, String routeSettings) {
        return """
                backends:
                  remote:
                    type: http
                    protocol: kserve-v2
                    url: %s
                    model-name: m
                    request-timeout: 30s
                    filters:
                      - type: batching
                %s
                routes:
                  - model: remote
                    backend: remote
                %s
                """.formatted(url, filterSettings.indent(8).stripTrailing(), routeSettings.indent(4).stripTrailing());
    }

    /** A KServe v2 request of one row of {@code width} copies of {@code value}. */
    private static String row(float value, int width) {
        StringBuilder data = new StringBuilder();
        for (int i = 0; i < width; i++) {
            data.append(i == 0 ? "" : ",").append(value);
        }
        return "{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[1," + width + "],\"data\":[" + data
                + "]}]}";
    }

    private static CompletableFuture<HttpResponse<String>> infer(RunningGateway gateway, ExecutorService clients,
            String body, String... headers) {
        return CompletableFuture.supplyAsync(() -> gateway.post("/v2/models/remote/infer", "application/json", body,
                headers), clients);
    }

    private static void awaitQueued(RunningGateway gateway, int depth) {
        gateway.awaitMetric("modelgate_batching_queue_depth{backend=\"remote\"} " + depth, WITHIN);
    }

    private static HttpResponse<String> answer(CompletableFuture<HttpResponse<String>> call) throws Exception {
        return call.get(WITHIN.toSeconds(), TimeUnit.SECONDS);
    }

    @Test
    void requestsQueuedWhileTheBackendIsBusyLeaveAsOneBatchAndEachClientGetsItsOwnRows(@TempDir Path logs)
            throws Exception {
        Path accessLog = logs.resolve("access.log");
        try (KServeStandIn backend = new KServeStandIn(true, call -> 0);
                RunningGateway gateway = RunningGateway.start(config(backend.url(), "max-batch-size: 16", """
                        middlewares:
                          - type: access-log
                            output: %s""".formatted(accessLog)));
                ExecutorService clients = Executors.newVirtualThreadPerTaskExecutor()) {
            CompletableFuture<HttpResponse<String>> first = infer(gateway, clients, row(100, 4));
            assertTrue(backend.firstCallArrived.await(WITHIN.toSeconds(), TimeUnit.SECONDS));
            List<CompletableFuture<HttpResponse<String>>> queued = new ArrayList<>();
            for (int i = 1; i <= 8; i++) {
                queued.add(infer(gateway, clients, row(i, 4)));
            }
            awaitQueued(gateway, 8);

            backend.release.countDown();

            assertEquals(200, answer(first).statusCode());
            assertTrue(answer(first).body().contains("\"data\":[1000.0,1000.0,1000.0,1000.0]"), answer(first)::body);
            for (int i = 1; i <= 8; i++) {
                HttpResponse<String> response = answer(queued.get(i - 1));
                float expected = i * 10;
                assertEquals(200, response.statusCode(), response::body);
                assertTrue(response.body().contains("\"shape\":[1,4],\"data\":[" + expected + "," + expected + ","
                        + expected + "," + expected + "]"), response::body);
            }
            assertEquals(List.of(1L, 8L), backend.batchRows, "the stand-in's calls, by rows");
            gateway.awaitMetric("modelgate_batching_batches_total{backend=\"remote\"} 2", WITHIN);
            gateway.awaitMetric("modelgate_batching_requests_total{backend=\"remote\"} 9", WITHIN);
            gateway.assertMetric("modelgate_batching_batch_size_count{backend=\"remote\"} 2");
            gateway.assertMetric("modelgate_batching_batch_size_bucket{backend=\"remote\",le=\"1.0\"} 1");
            gateway.assertMetric("modelgate_batching_batch_size_bucket{backend=\"remote\",le=\"8.0\"} 2");
            gateway.assertMetric("modelgate_batching_queue_delay_seconds_count{backend=\"remote\"} 9");
            List<String> lines = Await.lines(accessLog, written -> written.size() >= 9);
            assertEquals(1, lines.stream().filter(line -> line.contains("\"batch_size\":1}")).count(), lines::toString);
            assertEquals(8, lines.stream().filter(line -> line.contains("\"batch_size\":8}")).count(), lines::toString);
        }
    }

    @Test
    void requestsOfOtherShapesFormBatchesOfTheirOwn() throws Exception {
        try (KServeStandIn backend = new KServeStandIn(true, call -> 0);
                RunningGateway gateway = RunningGateway.start(config(backend.url(), "max-batch-size: 16"));
                ExecutorService clients = Executors.newVirtualThreadPerTaskExecutor()) {
            CompletableFuture<HttpResponse<String>> first = infer(gateway, clients, row(1, 4));
            assertTrue(backend.firstCallArrived.await(WITHIN.toSeconds(), TimeUnit.SECONDS));
            List<CompletableFuture<HttpResponse<String>>> wide = new ArrayList<>();
            List<CompletableFuture<HttpResponse<String>>> narrow = new ArrayList<>();
            for (int i = 1; i <= 3; i++) {
                wide.add(infer(gateway, clients, row(i, 4)));
                narrow.add(infer(gateway, clients, row(i, 3)));
            }
            awaitQueued(gateway, 6);

            backend.release.countDown();

            answer(first);
            for (int i = 1; i <= 3; i++) {
                float expected = i * 10;
                assertTrue(answer(wide.get(i - 1)).body().contains("\"shape\":[1,4],\"data\":[" + expected + ","),
                        answer(wide.get(i - 1))::body);
                assertTrue(answer(narrow.get(i - 1)).body().contains("\"shape\":[1,3],\"data\":[" + expected + ","),
                        answer(narrow.get(i - 1))::body);
            }
            assertEquals(List.of(1L, 3L, 3L), backend.batchRows, "the stand-in's calls, by rows");
        }
    }

    @Test
    void aBatchIsCutAtMaxBatchSizeAndAtTheLargestPreferredSize() throws Exception {
        try (KServeStandIn backend = new KServeStandIn(true, call -> 0);
                RunningGateway gateway = RunningGateway.start(config(backend.url(), """
                        max-batch-size: 4
                        preferred-batch-sizes: [3]"""));
                ExecutorService clients = Executors.newVirtualThreadPerTaskExecutor()) {
            CompletableFuture<HttpResponse<String>> first = infer(gateway, clients, row(1, 2));
            assertTrue(backend.firstCallArrived.await(WITHIN.toSeconds(), TimeUnit.SECONDS));
            List<CompletableFuture<HttpResponse<String>>> queued = new ArrayList<>();
            for (int i = 1; i <= 9; i++) {
                queued.add(infer(gateway, clients, row(i, 2)));
            }
            awaitQueued(gateway, 9);

            backend.release.countDown();

            answer(first);
            for (CompletableFuture<HttpResponse<String>> call : queued) {
                assertEquals(200, answer(call).statusCode(), answer(call)::body);
            }
            // Nine rows: three preferred batches of three (four is possible, but three is preferred).
            assertEquals(List.of(1L, 3L, 3L, 3L), backend.batchRows, "the stand-in's calls, by rows");
        }
    }

    @Test
    void aFullQueueRefusesWithItsCode() throws Exception {
        try (KServeStandIn backend = new KServeStandIn(true, call -> 0);
                RunningGateway gateway = RunningGateway.start(config(backend.url(), "max-queue-size: 2"));
                ExecutorService clients = Executors.newVirtualThreadPerTaskExecutor()) {
            CompletableFuture<HttpResponse<String>> first = infer(gateway, clients, row(1, 4));
            assertTrue(backend.firstCallArrived.await(WITHIN.toSeconds(), TimeUnit.SECONDS));
            List<CompletableFuture<HttpResponse<String>>> queued = List.of(infer(gateway, clients, row(2, 4)),
                    infer(gateway, clients, row(3, 4)));
            awaitQueued(gateway, 2);

            HttpResponse<String> refused = gateway.post("/v2/models/remote/infer", "application/json", row(4, 4));

            assertEquals(503, refused.statusCode());
            assertEquals("30401", refused.headers().firstValue("X-Modelgate-Code").orElse(""), refused::body);
            gateway.awaitMetric("modelgate_batching_refused_total{backend=\"remote\"} 1", WITHIN);
            backend.release.countDown();
            answer(first);
            for (CompletableFuture<HttpResponse<String>> call : queued) {
                assertEquals(200, answer(call).statusCode());
            }
        }
    }

    @Test
    void aRequestWhoseDeadlinePassesInTheQueueIsAnswered504AndNeverSent() throws Exception {
        try (KServeStandIn backend = new KServeStandIn(true, call -> 0);
                RunningGateway gateway = RunningGateway.start(config(backend.url(), ""));
                ExecutorService clients = Executors.newVirtualThreadPerTaskExecutor()) {
            CompletableFuture<HttpResponse<String>> first = infer(gateway, clients, row(1, 4));
            assertTrue(backend.firstCallArrived.await(WITHIN.toSeconds(), TimeUnit.SECONDS));

            HttpResponse<String> expired = gateway.post("/v2/models/remote/infer", "application/json", row(2, 4),
                    "X-Request-Timeout", "300ms");

            assertEquals(504, expired.statusCode(), expired::body);
            assertEquals("40008", expired.headers().firstValue("X-Modelgate-Code").orElse(""), expired::body);
            gateway.awaitMetric("modelgate_batching_queue_depth{backend=\"remote\"} 0", WITHIN);
            backend.release.countDown();
            answer(first);
            assertEquals(List.of(1L), backend.batchRows, "the expired request never reached the stand-in");
        }
    }

    @Test
    void aFailedBatchFailsEachOfItsMembers() throws Exception {
        try (KServeStandIn backend = new KServeStandIn(true, call -> call == 1 ? 500 : 0);
                RunningGateway gateway = RunningGateway.start(config(backend.url(), ""));
                ExecutorService clients = Executors.newVirtualThreadPerTaskExecutor()) {
            CompletableFuture<HttpResponse<String>> first = infer(gateway, clients, row(1, 4));
            assertTrue(backend.firstCallArrived.await(WITHIN.toSeconds(), TimeUnit.SECONDS));
            List<CompletableFuture<HttpResponse<String>>> queued = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                queued.add(infer(gateway, clients, row(i, 4)));
            }
            awaitQueued(gateway, 3);

            backend.release.countDown();

            assertEquals(200, answer(first).statusCode());
            for (CompletableFuture<HttpResponse<String>> call : queued) {
                assertEquals(502, answer(call).statusCode(), answer(call)::body);
                assertEquals("40005", answer(call).headers().firstValue("X-Modelgate-Code").orElse(""));
            }
            assertEquals(List.of(1L, 3L), backend.batchRows);
        }
    }

    @Test
    void aLoneRequestLeavesAtOnceWhenOpportunisticAndAfterTheDelayOtherwise() throws Exception {
        try (KServeStandIn backend = new KServeStandIn(false, call -> 0);
                RunningGateway opportunistic = RunningGateway.start(config(backend.url(), ""));
                RunningGateway delayed = RunningGateway.start(config(backend.url(), """
                        strategy: delay
                        max-queue-delay: 5s"""))) {
            // A deadline shorter than the delay: only a request that does not wait for a fuller batch makes it.
            HttpResponse<String> atOnce = opportunistic.post("/v2/models/remote/infer", "application/json",
                    row(1, 4), "X-Request-Timeout", "3s");
            HttpResponse<String> waited = delayed.post("/v2/models/remote/infer", "application/json", row(1, 4),
                    "X-Request-Timeout", "3s");

            assertEquals(200, atOnce.statusCode(), atOnce::body);
            assertEquals(504, waited.statusCode(), waited::body);
            assertEquals(List.of(1L), backend.batchRows);
        }
    }

    @Test
    void settingsThatMeanNothingFailValidationWithTheirKeyPath() {
        Deployment.InvalidConfigException invalid = assertThrows(Deployment.InvalidConfigException.class,
                () -> RunningGateway.start(config("http://127.0.0.1:9", """
                        max-batch-size: 8
                        preferred-batch-sizes: [2, 64, many]
                        strategy: eager""")).close());
        Deployment.InvalidConfigException tooSmall = assertThrows(Deployment.InvalidConfigException.class,
                () -> RunningGateway.start(config("http://127.0.0.1:9", "max-batch-size: 0")).close());

        assertEquals(List.of(
                "backends.remote.filters[0].strategy: must be opportunistic or delay, but was 'eager'",
                "backends.remote.filters[0].preferred-batch-sizes[1]: must be between 1 and max-batch-size (8), but "
                        + "was 64",
                "backends.remote.filters[0].preferred-batch-sizes[2]: must be an integer, but was 'many'"),
                invalid.problems());
        assertEquals(List.of("backends.remote.filters[0].max-batch-size: must be between 1 and 65536, but was 0"),
                tooSmall.problems());
    }

    @Test
    void aDelayWithTheOpportunisticStrategyMeansNothingAndFailsValidation() {
        Deployment.InvalidConfigException invalid = assertThrows(Deployment.InvalidConfigException.class,
                () -> RunningGateway.start(config("http://127.0.0.1:9", "max-queue-delay: 2ms")).close());

        assertEquals(List.of("backends.remote.filters[0].max-queue-delay: means nothing with strategy opportunistic, "
                + "which sends as soon as the backend has a free batch slot; use strategy: delay to wait for fuller "
                + "batches"), invalid.problems());
    }
}
