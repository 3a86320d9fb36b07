package dev.modelgate.plugins.circuitbreaker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.modelgate.kernel.fixtures.StreamingBackendProvider;
import dev.modelgate.kernel.testing.RunningGateway;
import java.io.UncheckedIOException;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Streamed answers through a real gateway, on the gateway's API (which reads a stream whole before it answers) and on
 * the TensorFlow Serving front (which passes it on as it comes): the breaker judges a stream by how it ends.
 */
class CircuitBreakerStreamTest {

    private static final String PREDICT_BODY = "{\"instances\":[[1.0]]}";
    private static final Duration DEADLINE = Duration.ofSeconds(10);

    private static RunningGateway gateway(boolean breakMidway) throws Exception {
        return RunningGateway.start("""
                backends:
                  stream:
                    type: streaming
                    break-midway: %s
                    filters:
                      - type: circuit-breaker
                        window-size: 2
                        wait-in-open: 1h
                routes:
                  - model: stream
                    backend: stream
                """.formatted(breakMidway));
    }

    /** A predict call whose answer may break off: the client then sees an error or a cut body, never a whole one. */
    private static void predictBroken(RunningGateway gateway, String prefix) {
        try {
            HttpResponse<String> response = gateway.post(prefix + "/v1/models/stream:predict", "application/json",
                    PREDICT_BODY);
            assertFalse(response.body().contains(StreamingBackendProvider.LAST_CHUNK), response.body());
        } catch (UncheckedIOException e) {
            // The front had sent the headers when the stream broke: the client's read fails.
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "/tfserving"})
    void aStreamTheBackendBreaksMidwayCountsAsAFailure(String prefix) throws Exception {
        try (RunningGateway gateway = gateway(true)) {
            predictBroken(gateway, prefix);
            predictBroken(gateway, prefix);
            gateway.awaitMetric("modelgate_circuit_state{backend=\"stream\"} 1", DEADLINE);

            HttpResponse<String> refused = gateway.post(prefix + "/v1/models/stream:predict", "application/json",
                    PREDICT_BODY);

            assertEquals(503, refused.statusCode(), refused.body());
            assertTrue(refused.headers().firstValue("Retry-After").isPresent());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "/tfserving"})
    void aStreamThatArrivesWholeCountsAsASuccess(String prefix) throws Exception {
        try (RunningGateway gateway = gateway(false)) {
            for (int i = 0; i < 5; i++) {
                HttpResponse<String> response = gateway.post(prefix + "/v1/models/stream:predict",
                        "application/json", PREDICT_BODY);

                assertEquals(200, response.statusCode(), response.body());
                assertTrue(response.body().contains("[0.5]"), response.body());
            }

            gateway.awaitMetric("modelgate_circuit_state{backend=\"stream\"} 0", DEADLINE);
            assertFalse(gateway.metrics().has("modelgate_circuit_transitions_total"));
        }
    }
}
