package dev.modelgate.plugins.batching;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.modelgate.kernel.testing.Await;
import dev.modelgate.kernel.testing.RunningGateway;
import org.junit.jupiter.api.Test;

/** A reload that removes a batched backend takes the batcher's series off the scrape; a kept one keeps its own. */
class BatchingReloadTest {

    private static final String BACKEND = """
              %s:
                type: onnx
                model: classpath:models/demo.onnx
                filters:
                  - type: batching
            """;
    private static final String ROUTE = """
              - model: %1$s
                backend: %1$s
            """;

    private static String config(String... backends) {
        StringBuilder config = new StringBuilder("backends:\n");
        for (String backend : backends) {
            config.append(BACKEND.formatted(backend));
        }
        config.append("routes:\n");
        for (String backend : backends) {
            config.append(ROUTE.formatted(backend));
        }
        return config.toString();
    }

    @Test
    void theBatcherMetricsOfARemovedBackendDisappear() throws Exception {
        try (RunningGateway gateway = RunningGateway.start(config("kept", "removed"))) {
            assertEquals(200, gateway.post("/v1/models/removed:predict", "application/json",
                    "{\"instances\":[[5.1,3.5,1.4,0.2]]}").statusCode());
            gateway.awaitMetric("modelgate_batching_requests_total{backend=\"removed\"} 1");

            assertTrue(gateway.reload(config("kept")).applied());

            Await.until("the removed backend's series gone",
                    () -> !gateway.metrics().text().contains("backend=\"removed\""));
            gateway.assertMetric("modelgate_batching_queue_depth{backend=\"kept\"} 0");
        }
    }
}
