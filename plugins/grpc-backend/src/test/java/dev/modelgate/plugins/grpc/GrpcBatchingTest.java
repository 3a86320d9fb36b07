package dev.modelgate.plugins.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.modelgate.kernel.fixtures.ProbeFilterProvider;
import dev.modelgate.kernel.testing.RunningGateway;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The batching filter on a {@code grpc} backend: requests queued while a call is at the real KServe v2 gRPC model
 * server ({@code double}: y = 2x) leave as one ModelInfer call, and each client gets its own rows back. A probe after
 * the batcher holds the first call, so that the others queue meanwhile.
 */
class GrpcBatchingTest {

    private static final Duration WITHIN = Duration.ofSeconds(20);

    private static String row(float value) {
        return "{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[1,1],\"data\":[" + value + "]}]}";
    }

    @Test
    void requestsToAGrpcBackendAreMergedIntoOneCallAndSplitBack() throws Exception {
        ProbeFilterProvider.Hold hold = ProbeFilterProvider.holdFirst("grpc-batches");
        try (ModelServer server = ModelServer.start();
                RunningGateway gateway = RunningGateway.start("""
                        backends:
                          triton:
                            type: grpc
                            protocol: kserve-v2
                            url: %s
                            model-name: double
                            filters:
                              - type: batching
                                max-batch-size: 3
                              - type: probe
                                name: grpc-batches
                                act: hold
                        routes:
                          - {model: double, backend: triton}
                        """.formatted(server.url()));
                ExecutorService clients = Executors.newVirtualThreadPerTaskExecutor()) {
            CompletableFuture<HttpResponse<String>> first = CompletableFuture.supplyAsync(() -> gateway.post(
                    "/v2/models/double/infer", "application/json", row(100)), clients);
            assertTrue(hold.arrived().await(WITHIN.toSeconds(), TimeUnit.SECONDS));
            List<CompletableFuture<HttpResponse<String>>> queued = new ArrayList<>();
            for (int i = 1; i <= 3; i++) {
                float value = i;
                queued.add(CompletableFuture.supplyAsync(() -> gateway.post("/v2/models/double/infer",
                        "application/json", row(value)), clients));
            }
            gateway.awaitMetric("modelgate_batching_queue_depth{backend=\"triton\"} 3", WITHIN);

            hold.release().countDown();

            assertEquals(200, first.get(WITHIN.toSeconds(), TimeUnit.SECONDS).statusCode());
            for (int i = 1; i <= 3; i++) {
                HttpResponse<String> answer = queued.get(i - 1).get(WITHIN.toSeconds(), TimeUnit.SECONDS);
                assertEquals(200, answer.statusCode(), answer::body);
                assertTrue(answer.body().contains("\"shape\":[1,1],\"data\":[" + (2.0f * i) + "]"), answer::body);
            }
            assertEquals(2, server.inferences.get(), "ModelInfer calls the model server got");
            gateway.assertMetric("modelgate_batching_batch_size_bucket{backend=\"triton\",le=\"4.0\"} 2");
            gateway.assertMetric("modelgate_batching_requests_total{backend=\"triton\"} 4");
        }
    }
}
