package dev.modelgate.plugins.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import dev.modelgate.kernel.testing.RunningGateway;
import dev.modelgate.spi.CoreErrors;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The demo model behind a real gateway, over HTTP. */
class OnnxGatewayTest {

    private static RunningGateway gateway;

    @BeforeAll
    static void start() throws Exception {
        gateway = RunningGateway.start("""
                backends:
                  demo:
                    type: onnx
                    model: classpath:models/demo.onnx
                routes:
                  - model: demo
                    backend: demo
                """);
    }

    @AfterAll
    static void stop() throws Exception {
        gateway.close();
    }

    @Test
    void predictAnswersTheDemoModelsPredictionsInTheEnvelope() throws Exception {
        HttpResponse<String> response = gateway.post("/v1/models/demo:predict", "application/json",
                "{\"instances\": [[5.1, 3.5, 1.4, 0.2]]}");
        JsonNode json = PredictExchange.JSON.readTree(response.body());

        assertEquals(200, response.statusCode(), response.body());
        assertEquals(0, json.get("code").asInt());
        assertEquals("success", json.get("message").asText());
        JsonNode prediction = json.get("data").get("predictions").get(0);
        assertEquals(0, prediction.get("label").asInt());
        double[] expected = OnnxBackendTest.softmaxOfDocumentedWeights(new double[] {5.1, 3.5, 1.4, 0.2});
        for (int label = 0; label < expected.length; label++) {
            assertEquals(expected[label], prediction.get("probabilities").get(label).asDouble(), 1e-5);
        }
    }

    @Test
    void anInputMismatchIsA400WithCode20007() throws Exception {
        HttpResponse<String> response = gateway.post("/v1/models/demo:predict", "application/json",
                "{\"instances\": [[5.1, 3.5, 1.4]]}");
        JsonNode json = PredictExchange.JSON.readTree(response.body());

        assertEquals(400, response.statusCode(), response.body());
        assertEquals(CoreErrors.INPUT_MISMATCH.code(), json.get("code").asInt());
    }

    @Test
    void modelStatusCarriesTheModelsMetadata() throws Exception {
        HttpResponse<String> response = gateway.get("/v1/models/demo");
        JsonNode metadata = PredictExchange.JSON.readTree(response.body()).get("data").get("metadata");

        assertEquals(200, response.statusCode(), response.body());
        assertEquals("onnxruntime", metadata.get("platform").asText());
        assertEquals("features", metadata.get("inputs").get(0).get("name").asText());
    }
}
