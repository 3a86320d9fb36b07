package dev.modelgate.plugins.circuitbreaker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.modelgate.kernel.Deployment;
import dev.modelgate.kernel.fixtures.EchoBackendProvider;
import dev.modelgate.kernel.testing.RunningGateway;
import java.net.http.HttpResponse;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The middleware in a real gateway, in front of echo backends; circuits open for an hour, so none half-opens. */
class CircuitBreakerGatewayTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String PREDICT_BODY = "{\"instances\":[[1.0,2.0]]}";
    private static final String BACKENDS = """
            backends:
              broken:
                type: echo
                fail: status-500
              unreachable:
                type: echo
                fail: unavailable
              rejecting:
                type: echo
                fail: status-400
              healthy:
                type: echo
              standby:
                type: echo
                tag: standby
            routes:
              - model: broken
                backend: broken
              - model: unreachable
                backend: unreachable
              - model: rejecting
                backend: rejecting
              - model: healthy
                backend: healthy
            """;

    /** A gateway whose global breaker judges each backend on its last 2 calls. */
    private static RunningGateway gateway(String extraSettings) throws Exception {
        return RunningGateway.start("""
                middlewares:
                  - type: circuit-breaker
                    window-size: 2
                    wait-in-open: 1h
                """ + extraSettings.indent(4) + BACKENDS);
    }

    private static HttpResponse<String> predict(RunningGateway gateway, String model) {
        return gateway.post("/v1/models/" + model + ":predict", "application/json", PREDICT_BODY);
    }

    private static int code(HttpResponse<String> response) throws Exception {
        return JSON.readTree(response.body()).get("code").asInt();
    }

    @Test
    void answersAtOnceWithoutCallingTheBackendOnceItsFailuresOpenTheCircuit() throws Exception {
        try (RunningGateway gateway = gateway("")) {
            assertEquals(502, predict(gateway, "broken").statusCode());
            assertEquals(502, predict(gateway, "broken").statusCode());
            int callsBefore = EchoBackendProvider.calls();

            HttpResponse<String> refused = predict(gateway, "broken");

            assertEquals(EchoBackendProvider.calls(), callsBefore, "the backend was not called");
            assertEquals(503, refused.statusCode(), refused.body());
            assertEquals(30201, code(refused));
            assertTrue(JSON.readTree(refused.body()).get("message").asText().startsWith("circuit open"),
                    refused.body());
            assertEquals("3600", refused.headers().firstValue("Retry-After").orElseThrow());
        }
    }

    @Test
    void countsUnreachableBackendsAsFailures() throws Exception {
        try (RunningGateway gateway = gateway("")) {
            assertEquals(40003, code(predict(gateway, "unreachable")));
            assertEquals(40003, code(predict(gateway, "unreachable")));

            assertEquals(30201, code(predict(gateway, "unreachable")));
        }
    }

    @Test
    void keepsOneCircuitPerBackend() throws Exception {
        try (RunningGateway gateway = gateway("")) {
            predict(gateway, "broken");
            predict(gateway, "broken");
            assertEquals(30201, code(predict(gateway, "broken")));

            HttpResponse<String> other = predict(gateway, "healthy");

            assertEquals(200, other.statusCode(), other.body());
        }
    }

    @Test
    void exportsEachCircuitsStateAndChangesAsMetrics() throws Exception {
        try (RunningGateway gateway = gateway("")) {
            predict(gateway, "healthy");
            predict(gateway, "broken");
            predict(gateway, "broken");
            predict(gateway, "broken");
            predict(gateway, "broken");

            String metrics = gateway.adminGet("/metrics").body();

            assertTrue(metrics.contains("modelgate_circuit_state{backend=\"broken\"} 1\n"), metrics);
            assertTrue(metrics.contains("modelgate_circuit_state{backend=\"healthy\"} 0\n"), metrics);
            assertTrue(metrics.contains(
                    "modelgate_circuit_transitions_total{backend=\"broken\",from=\"closed\",to=\"open\"} 1\n"),
                    metrics);
            assertTrue(metrics.contains("modelgate_circuit_not_permitted_total{backend=\"broken\"} 2\n"), metrics);
        }
    }

    @Test
    void aBackendRefusingBadRequestsIsHealthy() throws Exception {
        try (RunningGateway gateway = gateway("")) {
            for (int i = 0; i < 5; i++) {
                HttpResponse<String> rejected = predict(gateway, "rejecting");

                assertEquals(400, rejected.statusCode(), rejected.body());
                assertEquals(40006, code(rejected));
            }
        }
    }

    @Test
    void requestsTheGatewayRefusesBeforeCallingTheBackendAreNotCounted() throws Exception {
        try (RunningGateway gateway = gateway("")) {
            assertEquals(502, predict(gateway, "broken").statusCode());
            for (int i = 0; i < 5; i++) {
                HttpResponse<String> invalid = gateway.post("/v1/models/broken:predict", "application/json",
                        "{\"instances\":[]}");
                assertEquals(20006, code(invalid), invalid.body());
            }

            assertEquals(502, predict(gateway, "broken").statusCode(), "the second recorded call reaches it");
            assertEquals(30201, code(predict(gateway, "broken")));
        }
    }

    @Test
    void doesNotGuardReadingAModelsMetadata() throws Exception {
        try (RunningGateway gateway = gateway("")) {
            predict(gateway, "broken");
            predict(gateway, "broken");

            assertEquals(200, gateway.get("/v1/models/broken").statusCode());
        }
    }

    @Test
    void answersWithTheConfiguredResponseWhileOpen() throws Exception {
        try (RunningGateway gateway = gateway("""
                fallback:
                  response:
                    status: 200
                    body: {predictions: [[0.0, 0.0]], degraded: true}
                """)) {
            predict(gateway, "broken");
            predict(gateway, "broken");

            HttpResponse<String> fallback = predict(gateway, "broken");

            assertEquals(200, fallback.statusCode(), fallback.body());
            JsonNode envelope = JSON.readTree(fallback.body());
            assertEquals(0, envelope.get("code").asInt());
            assertEquals("success", envelope.get("message").asText());
            assertEquals(JSON.readTree("{\"predictions\":[[0.0,0.0]],\"degraded\":true}"), envelope.get("data"));
        }
    }

    @Test
    void servesFromTheFallbackBackendWhileOpen() throws Exception {
        try (RunningGateway gateway = gateway("""
                fallback:
                  backend: standby
                """)) {
            predict(gateway, "broken");
            predict(gateway, "broken");

            HttpResponse<String> fallback = predict(gateway, "broken");

            assertEquals(200, fallback.statusCode(), fallback.body());
            assertEquals("standby", JSON.readTree(fallback.body()).get("data").get("tag").asText());
            assertEquals(JSON.readTree("[[1.0,2.0]]"), JSON.readTree(fallback.body()).get("data").get("predictions"));
        }
    }

    @Test
    void reportsInvalidSettingsByKey() {
        Deployment.InvalidConfigException invalid = assertThrows(Deployment.InvalidConfigException.class,
                () -> RunningGateway.start("""
                        middlewares:
                          - type: circuit-breaker
                            window-size: 10
                            minimum-calls: 20
                            failure-rate-threshold: 120
                            wait-in-open: soon
                            fallback:
                              backend: nowhere
                          - type: circuit-breaker
                            window-type: sliding
                            fallback:
                              response: {status: 503, body: {}}
                              backend: standby
                        """ + BACKENDS).close());

        assertEquals(List.of(
                "middlewares[0].failure-rate-threshold: must be between 1 and 100, but was 120",
                "middlewares[0].wait-in-open: must be a positive duration such as 250ms, 5s, 2m or 1h, but was 'soon'",
                "middlewares[0].minimum-calls: must not be more than window-size (10) in a count window, but was 20",
                "middlewares[0].fallback.backend: unknown backend 'nowhere'",
                "middlewares[1].window-type: must be count or time, but was 'sliding'",
                "middlewares[1].fallback: give either 'response' or 'backend', not both"),
                invalid.problems());
    }

    @Test
    void reportsAStaticResponseWithoutABodyOrWithAFailingStatus() {
        Deployment.InvalidConfigException invalid = assertThrows(Deployment.InvalidConfigException.class,
                () -> RunningGateway.start("""
                        middlewares:
                          - type: circuit-breaker
                            window-type: time
                            window-size: 1500ms
                            fallback:
                              response: {status: 503}
                        """ + BACKENDS).close());

        assertEquals(List.of(
                "middlewares[0].window-size: must be a whole number of seconds in a time window, but was 1500ms",
                "middlewares[0].fallback.response.status: must be between 200 and 299, but was 503",
                "middlewares[0].fallback.response.body: is required: the JSON object answered as the envelope's data"),
                invalid.problems());
    }

    @ParameterizedTest
    @CsvSource({
        "0, SUCCESS", "40006, SUCCESS",
        "40003, FAILURE", "40004, FAILURE", "40005, FAILURE", "40007, FAILURE",
        "10201, IGNORED", "20006, IGNORED", "30101, IGNORED", "30201, IGNORED", "30301, IGNORED",
        "40008, IGNORED", "90001, IGNORED"})
    void countsOnlyTheBackendsOwnFailuresAgainstIt(int code, CircuitBreaker.Outcome outcome) {
        assertEquals(outcome, CircuitBreakerMiddleware.outcomeOf(code));
    }
}
