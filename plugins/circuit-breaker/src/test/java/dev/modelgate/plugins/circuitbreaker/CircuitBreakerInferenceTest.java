package dev.modelgate.plugins.circuitbreaker;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.modelgate.kernel.testing.RunningGateway;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.Test;

/**
 * The breaker of a backend that takes decoded requests: a fixed fallback cannot be a decoded answer, so it goes to
 * the client as configured, in the envelope on the gateway's API as every answer there, bare on a protocol front.
 */
class CircuitBreakerInferenceTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String PREDICT_BODY = "{\"instances\":[[1.0]]}";
    private static final JsonNode FALLBACK = JSON.createObjectNode().put("degraded", true);

    private static RunningGateway gateway() throws Exception {
        return RunningGateway.start("""
                backends:
                  model:
                    type: unreachable-model
                    filters:
                      - type: circuit-breaker
                        window-size: 2
                        wait-in-open: 1h
                        fallback:
                          response: {status: 203, body: {degraded: true}}
                routes:
                  - model: model
                    backend: model
                """);
    }

    @Test
    void theGatewayApiAnswersTheFixedFallbackInItsEnvelope() throws Exception {
        try (RunningGateway gateway = gateway()) {
            for (int i = 0; i < 2; i++) {
                HttpResponse<String> failed = gateway.post("/v1/models/model:predict", "application/json",
                        PREDICT_BODY);
                assertEquals(40003, JSON.readTree(failed.body()).get("code").asInt(), failed.body());
            }

            HttpResponse<String> fallback = gateway.post("/v1/models/model:predict", "application/json",
                    PREDICT_BODY);

            assertEquals(203, fallback.statusCode(), fallback.body());
            JsonNode envelope = JSON.readTree(fallback.body());
            assertEquals(0, envelope.get("code").asInt());
            assertEquals(FALLBACK, envelope.get("data"));
        }
    }

    @Test
    void aProtocolFrontAnswersTheFixedFallbackAsItIs() throws Exception {
        try (RunningGateway gateway = gateway()) {
            for (int i = 0; i < 2; i++) {
                gateway.post("/tfserving/v1/models/model:predict", "application/json", PREDICT_BODY);
            }

            HttpResponse<String> fallback = gateway.post("/tfserving/v1/models/model:predict", "application/json",
                    PREDICT_BODY);

            assertEquals(203, fallback.statusCode(), fallback.body());
            assertEquals(FALLBACK, JSON.readTree(fallback.body()));
        }
    }
}
