package dev.modelgate.plugins.batching;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
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
 * The in-process ONNX backend's demo model behind the batcher: a probe filter after the batcher holds the first call,
 * the requests sent meanwhile leave as one batch, and each client's probabilities are the ones its own features give
 * when sent alone.
 */
class OnnxBatchingTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration WITHIN = Duration.ofSeconds(20);
    private static final String CONFIG = """
            backends:
              demo:
                type: onnx
                model: classpath:models/demo.onnx
                filters:
                  - type: batching
                    max-batch-size: 32
                  - type: probe
                    name: onnx-batches
                    act: hold
            routes:
              - model: demo
                backend: demo
            """;

    @Test
    void eachClientOfABatchGetsWhatItsOwnFeaturesGiveAlone() throws Exception {
        ProbeFilterProvider.Hold hold = ProbeFilterProvider.holdFirst("onnx-batches");
        try (RunningGateway gateway = RunningGateway.start(CONFIG);
                ExecutorService clients = Executors.newVirtualThreadPerTaskExecutor()) {
            CompletableFuture<HttpResponse<String>> first = predict(gateway, clients, 0);
            assertTrue(hold.arrived().await(WITHIN.toSeconds(), TimeUnit.SECONDS));
            List<CompletableFuture<HttpResponse<String>>> batched = new ArrayList<>();
            for (int i = 1; i <= 12; i++) {
                batched.add(predict(gateway, clients, i));
            }
            gateway.awaitMetric("modelgate_batching_queue_depth{backend=\"demo\"} 12", WITHIN);

            hold.release().countDown();

            assertEquals(200, first.get(WITHIN.toSeconds(), TimeUnit.SECONDS).statusCode());
            List<JsonNode> together = new ArrayList<>();
            for (CompletableFuture<HttpResponse<String>> call : batched) {
                HttpResponse<String> response = call.get(WITHIN.toSeconds(), TimeUnit.SECONDS);
                assertEquals(200, response.statusCode(), response::body);
                together.add(JSON.readTree(response.body()).at("/data/predictions/0"));
            }
            assertEquals(2, ProbeFilterProvider.calls("onnx-batches"), "the first call, then one batch of 12");
            for (int i = 1; i <= 12; i++) {
                JsonNode alone = JSON.readTree(predict(gateway, clients, i).get(WITHIN.toSeconds(), TimeUnit.SECONDS)
                        .body()).at("/data/predictions/0");
                assertClose(alone, together.get(i - 1));
            }
        }
    }

    /** Features that differ per client, from setosa-like to virginica-like. */
    private static CompletableFuture<HttpResponse<String>> predict(RunningGateway gateway, ExecutorService clients,
            int i) {
        String features = "[" + (4.5 + i * 0.2) + "," + (3.5 - i * 0.1) + "," + (1.0 + i * 0.45) + ","
                + (0.1 + i * 0.18) + "]";
        return CompletableFuture.supplyAsync(() -> gateway.post("/v1/models/demo:predict", "application/json",
                "{\"instances\":[" + features + "]}"), clients);
    }

    /** The same probabilities and label; a batched GEMM may round the last bit differently. */
    private static void assertClose(JsonNode expected, JsonNode actual) {
        assertEquals(expected.get("label"), actual.get("label"), () -> expected + " vs " + actual);
        JsonNode probabilities = expected.get("probabilities");
        assertEquals(3, probabilities.size(), expected::toString);
        for (int k = 0; k < probabilities.size(); k++) {
            assertEquals(probabilities.get(k).doubleValue(), actual.get("probabilities").get(k).doubleValue(), 1e-6,
                    () -> expected + " vs " + actual);
        }
    }
}
