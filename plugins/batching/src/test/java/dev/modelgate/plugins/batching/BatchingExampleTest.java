package dev.modelgate.plugins.batching;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.modelgate.kernel.Deployment;
import dev.modelgate.kernel.testing.RunningGateway;
import dev.modelgate.kernel.testing.TestBackend;
import dev.modelgate.kernel.testing.TestBackend.Reply;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** conf/examples/batching.yaml in front of a TF Serving stand-in, given as its predict URL. */
class BatchingExampleTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration WITHIN = Duration.ofSeconds(20);

    @Test
    void theShippedExampleBatchesClientsOfTheGatewayApiIntoTfServingCalls() throws Exception {
        List<Integer> batchRows = new CopyOnWriteArrayList<>();
        // The example sends two batches at once: both are held, so that what comes next queues.
        CountDownLatch twoCallsHeld = new CountDownLatch(2);
        CountDownLatch release = new CountDownLatch(1);
        String example = Files.readString(Path.of("../../conf/examples/batching.yaml"));
        try (TestBackend tfServing = TestBackend.start(request -> {
                    if (!request.path().equals("/v1/models/remote:predict")) {
                        return Reply.json(404, "{\"error\":\"nothing at " + request.path() + "\"}");
                    }
                    // y = 10 x, row by row, in TF Serving's columnar form (what the gateway sends), one input.
                    JsonNode rows = JSON.readTree(request.body()).get("inputs");
                    twoCallsHeld.countDown();
                    release.await(30, TimeUnit.SECONDS);
                    batchRows.add(rows.size());
                    ObjectNode answer = JSON.createObjectNode();
                    ArrayNode outputs = answer.putArray("outputs");
                    for (JsonNode row : rows) {
                        ArrayNode out = outputs.addArray();
                        row.forEach(value -> out.add(value.doubleValue() * 10));
                    }
                    return Reply.json(200, JSON.writeValueAsString(answer));
                });
                RunningGateway gateway = RunningGateway.start(example, null, Map.of("MODELGATE_PORT", "0",
                        "MODELGATE_BACKEND_URL", tfServing.url("/v1/models/remote:predict")));
                ExecutorService clients = Executors.newVirtualThreadPerTaskExecutor()) {
            List<CompletableFuture<HttpResponse<String>>> calls = new ArrayList<>();
            for (int i = 1; i <= 2; i++) {
                calls.add(predict(gateway, clients, i));
            }
            assertTrue(twoCallsHeld.await(WITHIN.toSeconds(), TimeUnit.SECONDS));
            for (int i = 3; i <= 21; i++) {
                calls.add(predict(gateway, clients, i));
            }
            gateway.awaitMetric("modelgate_batching_queue_depth{backend=\"remote\"} 19", WITHIN);

            release.countDown();

            for (int i = 1; i <= 21; i++) {
                HttpResponse<String> response = calls.get(i - 1).get(WITHIN.toSeconds(), TimeUnit.SECONDS);
                assertEquals("{\"code\":0,\"message\":\"success\",\"data\":{\"predictions\":[[" + i * 10.0 + ","
                        + (i * 10.0 + 5) + "]]}}", response.body());
            }
            // Two alone while nobody waited, then the 19 that waited in batches of at most 16.
            assertEquals(List.of(1, 1, 3, 16), batchRows.stream().sorted().toList());
        }
    }

    @Test
    void aBackendThatForwardsBytesCannotBatch() {
        Deployment.InvalidConfigException invalid = assertThrows(Deployment.InvalidConfigException.class,
                () -> RunningGateway.start("""
                        backends:
                          remote:
                            type: http
                            url: http://127.0.0.1:9/v1/models/remote:predict
                            filters:
                              - type: batching
                        routes:
                          - model: remote
                            backend: remote
                        """).close());

        assertEquals(List.of("backends.remote.filters[0].type: the batching filter works on tensors, but this backend "
                + "forwards bytes as they are: give it a protocol it decodes (for an http backend, protocol: "
                + "tf-serving or kserve-v2)"), invalid.problems());
    }

    private static CompletableFuture<HttpResponse<String>> predict(RunningGateway gateway, ExecutorService clients,
            int i) {
        return CompletableFuture.supplyAsync(() -> gateway.post("/v1/models/remote:predict", "application/json",
                "{\"instances\":[[" + i + ".0," + (i + 0.5) + "]]}"), clients);
    }
}
