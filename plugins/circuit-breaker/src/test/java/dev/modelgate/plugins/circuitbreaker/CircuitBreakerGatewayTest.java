package dev.modelgate.plugins.circuitbreaker;

import static dev.modelgate.kernel.testing.Answers.code;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.modelgate.kernel.Deployment;
import dev.modelgate.kernel.fixtures.EchoBackendProvider;
import dev.modelgate.kernel.testing.BuiltPlugin;
import dev.modelgate.kernel.testing.RunningGateway;
import dev.modelgate.spi.PhasedFilter;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The filter in a real gateway, on echo backends, each with a breaker of its own (the standby, the fallback, with
 * none); circuits open for an hour, so none half-opens.
 */
class CircuitBreakerGatewayTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String PREDICT_BODY = "{\"instances\":[[1.0,2.0]]}";
    /** {@code %1$s} is where each guarded backend lists its filters. */
    private static final String BACKENDS = """
            backends:
              broken:
                type: echo
                fail: status-500
            %1$s
              unreachable:
                type: echo
                fail: unavailable
            %1$s
              rejecting:
                type: echo
                fail: status-400
            %1$s
              healthy:
                type: echo
            %1$s
              standby:
                type: echo
                tag: standby
            routes:
              - model: broken
                backend: broken
              - model: broken-too
                backend: broken
              - model: unreachable
                backend: unreachable
              - model: rejecting
                backend: rejecting
              - model: healthy
                backend: healthy
            """;

    /** A gateway whose every guarded backend has a breaker that judges it on its last 2 calls. */
    private static RunningGateway gateway(String extraSettings) throws Exception {
        return RunningGateway.start(BACKENDS.formatted("""
                filters:
                  - type: circuit-breaker
                    window-size: 2
                    wait-in-open: 1h
                """.indent(4) + extraSettings.indent(8)).replace("\n\n", "\n"));
    }

    private static HttpResponse<String> predict(RunningGateway gateway, String model) {
        return gateway.post("/v1/models/" + model + ":predict", "application/json", PREDICT_BODY);
    }

    @Test
    void answersAtOnceWithoutCallingTheBackendOnceItsFailuresOpenTheCircuit() throws Exception {
        try (RunningGateway gateway = gateway("")) {
            assertEquals(502, predict(gateway, "broken").statusCode());
            assertEquals(502, predict(gateway, "broken").statusCode());
            int callsBefore = EchoBackendProvider.calls();
            long opened = System.nanoTime();

            HttpResponse<String> refused = predict(gateway, "broken");
            long secondsSinceOpened = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - opened);

            assertEquals(EchoBackendProvider.calls(), callsBefore, "the backend was not called");
            assertEquals(503, refused.statusCode(), refused.body());
            assertEquals(30201, code(refused));
            assertTrue(JSON.readTree(refused.body()).get("message").asText().startsWith("circuit open"),
                    refused.body());
            // The hour's rest, in whole seconds rounded up: 3600 unless a loaded machine took a second to refuse.
            long retryAfter = Long.parseLong(refused.headers().firstValue("Retry-After").orElseThrow());
            assertTrue(retryAfter <= 3600 && retryAfter >= 3600 - secondsSinceOpened - 1, "Retry-After " + retryAfter);
        }
    }

    @Test
    void everyRouteToABackendSharesItsCircuit() throws Exception {
        try (RunningGateway gateway = gateway("")) {
            assertEquals(502, predict(gateway, "broken").statusCode());
            assertEquals(502, predict(gateway, "broken-too").statusCode());

            HttpResponse<String> refused = predict(gateway, "broken");

            assertEquals(30201, code(refused), refused.body());
            assertEquals(30201, code(predict(gateway, "broken-too")));
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

            gateway.assertMetric("modelgate_circuit_state{backend=\"broken\"} 1");
            gateway.assertMetric("modelgate_circuit_state{backend=\"healthy\"} 0");
            gateway.assertMetric(
                    "modelgate_circuit_transitions_total{backend=\"broken\",from=\"closed\",to=\"open\"} 1");
            gateway.assertMetric("modelgate_circuit_not_permitted_total{backend=\"broken\"} 2");
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

    /** A gateway whose backend {@code broken} lists {@code filters}, a YAML list. */
    private static RunningGateway gatewayFiltering(String filters) throws Exception {
        return RunningGateway.start(BACKENDS.formatted("").replace("\n\n", "\n")
                .replace("    fail: status-500\n", "    fail: status-500\n    filters:\n" + filters.indent(6)));
    }

    @Test
    void reportsInvalidSettingsByKey() {
        Deployment.InvalidConfigException invalid = assertThrows(Deployment.InvalidConfigException.class,
                () -> gatewayFiltering("""
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
                        """).close());

        assertEquals(List.of(
                "backends.broken.filters[0].failure-rate-threshold: must be between 1 and 100, but was 120",
                "backends.broken.filters[0].wait-in-open: must be a positive duration such as 250ms, 5s, 2m or 1h, "
                        + "but was 'soon'",
                "backends.broken.filters[0].minimum-calls: must not be more than window-size (10) in a count window, "
                        + "but was 20",
                "backends.broken.filters[0].fallback.backend: unknown backend 'nowhere'",
                "backends.broken.filters[1].window-type: must be count or time, but was 'sliding'",
                "backends.broken.filters[1].fallback: give either 'response' or 'backend', not both"),
                invalid.problems());
    }

    @Test
    void reportsAStaticResponseWithoutABodyOrWithAFailingStatus() {
        Deployment.InvalidConfigException invalid = assertThrows(Deployment.InvalidConfigException.class,
                () -> gatewayFiltering("""
                        - type: circuit-breaker
                          window-type: time
                          window-size: 1500ms
                          fallback:
                            response: {status: 503}
                        - type: circuit-breaker
                          fallback:
                            response: {status: 200, body: [1, 2]}
                        """).close());

        assertEquals(List.of(
                "backends.broken.filters[0].window-size: must be a whole number of seconds in a time window, "
                        + "but was 1500ms",
                "backends.broken.filters[0].fallback.response.status: must be between 200 and 299, but was 503",
                "backends.broken.filters[0].fallback.response.body: is required: the JSON object answered as the "
                        + "envelope's data",
                "backends.broken.filters[1].fallback.response.body: must be a mapping, but was a list"),
                invalid.problems());
    }

    @Test
    void refusesABackendAsItsOwnFallbackAtLoad() {
        Deployment.InvalidConfigException invalid = assertThrows(Deployment.InvalidConfigException.class,
                () -> gatewayFiltering("""
                        - type: circuit-breaker
                          fallback:
                            backend: broken
                        """).close());

        assertEquals(List.of("backends.broken.filters[0].fallback.backend: backend 'broken' cannot be its own "
                + "fallback"), invalid.problems());
    }

    @Test
    void isNotAMiddlewareAnyMore() {
        Deployment.InvalidConfigException invalid = assertThrows(Deployment.InvalidConfigException.class,
                () -> RunningGateway.start("middlewares:\n  - type: circuit-breaker\n"
                        + BACKENDS.formatted("").replace("\n\n", "\n")).close());

        assertTrue(invalid.problems().getFirst().startsWith(
                "middlewares[0].type: unknown middleware type 'circuit-breaker'"), invalid.problems()::toString);
    }

    @ParameterizedTest
    @CsvSource({
        "0, SUCCESS", "40006, SUCCESS",
        "40003, FAILURE", "40004, FAILURE", "40005, FAILURE", "40007, FAILURE", "40011, FAILURE", "40012, FAILURE",
        "10201, IGNORED", "20006, IGNORED", "30101, IGNORED", "30201, IGNORED", "30301, IGNORED",
        "40008, IGNORED", "90001, IGNORED"})
    void countsOnlyTheBackendsOwnFailuresAgainstIt(int code, CircuitBreaker.Outcome outcome) {
        assertEquals(outcome, CircuitBreakerFilter.outcomeOf(code));
    }

    @Test
    void isPhasedUnlessItsFallbackCallsAnotherBackend() throws Exception {
        CircuitBreakerProvider provider = new CircuitBreakerProvider();
        try (var refusing = BuiltPlugin.filter(provider, "wait-in-open: 1h");
                var answering = BuiltPlugin.filter(provider, "fallback: {response: {body: {degraded: true}}}");
                var forwarding = BuiltPlugin.filter(provider, "fallback: {backend: standby}")) {
            assertInstanceOf(PhasedFilter.class, refusing.instance());
            assertInstanceOf(PhasedFilter.class, answering.instance());
            assertFalse(forwarding.instance() instanceof PhasedFilter,
                    "a call to the standby blocks, which must not hold an IO thread");
        }
    }
}
