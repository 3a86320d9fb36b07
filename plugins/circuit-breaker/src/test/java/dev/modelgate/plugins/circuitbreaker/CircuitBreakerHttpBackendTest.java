package dev.modelgate.plugins.circuitbreaker;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.modelgate.kernel.testing.Answers;
import dev.modelgate.kernel.testing.RunningGateway;
import dev.modelgate.kernel.testing.TestBackend;
import dev.modelgate.kernel.testing.TestBackend.Reply;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * A real model server that fails and recovers, behind the real {@code http} backend: the circuit goes round its whole
 * cycle. Its clock is {@link SteppedCircuitBreakerProvider}'s, which the test steps past the open wait, so that no
 * wall-clock window decides the outcome; the test waits on conditions with deadlines, never for a fixed time.
 */
class CircuitBreakerHttpBackendTest {

    private static final String PREDICT_BODY = "{\"instances\":[[1.0,2.0]]}";
    private static final String PREDICTIONS = "{\"predictions\":[[0.9,0.1]]}";

    /** A backend answering 500 until {@code healthy} is set, then 200. */
    private static TestBackend recoveringBackend(AtomicBoolean healthy) throws Exception {
        return TestBackend.start(request -> healthy.get() ? Reply.json(200, PREDICTIONS)
                : Reply.json(500, "{\"error\":\"model crashed\"}"));
    }

    /**
     * A gateway in front of {@code backend} as model {@code remote}, whose circuit opens at 2 failures in 4 calls, for
     * 500ms of the stepped clock, then lets {@code trials} calls through half-open.
     */
    private static RunningGateway guarding(TestBackend backend, int trials) throws Exception {
        return RunningGateway.start("""
                backends:
                  remote:
                    type: http
                    url: %s
                    connect-timeout: 200ms
                    request-timeout: 1s
                    filters:
                      - type: stepped-circuit-breaker
                        window-size: 4
                        minimum-calls: 4
                        failure-rate-threshold: 50
                        wait-in-open: 500ms
                        permitted-calls-in-half-open: %d
                routes:
                  - model: remote
                    backend: remote
                """.formatted(backend.url("/v1/models/remote:predict"), trials));
    }

    private static HttpResponse<String> predict(RunningGateway gateway, String model) {
        return gateway.post("/v1/models/" + model + ":predict", "application/json", PREDICT_BODY);
    }

    @Test
    void opensOnAFailingBackendThenHalfOpensAndClosesOnceItRecovers() throws Exception {
        AtomicBoolean healthy = new AtomicBoolean(false);
        try (TestBackend backend = recoveringBackend(healthy);
                RunningGateway gateway = guarding(backend, 2)) {
            for (int i = 0; i < 4; i++) {
                HttpResponse<String> failed = predict(gateway, "remote");
                assertEquals(502, failed.statusCode(), failed.body());
                assertEquals(40005, Answers.code(failed));
            }

            HttpResponse<String> refused = predict(gateway, "remote");
            assertEquals(503, refused.statusCode(), refused.body());
            assertEquals(30201, Answers.code(refused));
            assertEquals("1", refused.headers().firstValue("Retry-After").orElseThrow());
            assertEquals(4, backend.calls(), "an open circuit does not call the backend");
            gateway.assertMetric("modelgate_circuit_not_permitted_total{backend=\"remote\"} 1");

            healthy.set(true);
            SteppedCircuitBreakerProvider.step(Duration.ofMillis(499));
            gateway.assertMetric("modelgate_circuit_state{backend=\"remote\"} 1");
            SteppedCircuitBreakerProvider.step(Duration.ofMillis(1));
            gateway.assertMetric("modelgate_circuit_state{backend=\"remote\"} 2");
            for (int i = 0; i < 2; i++) {
                HttpResponse<String> trial = predict(gateway, "remote");
                assertEquals(200, trial.statusCode(), trial.body());
            }

            gateway.awaitMetric("modelgate_circuit_state{backend=\"remote\"} 0");
            for (String move : new String[] {"from=\"closed\",to=\"open\"", "from=\"open\",to=\"half-open\"",
                    "from=\"half-open\",to=\"closed\""}) {
                gateway.assertMetric("modelgate_circuit_transitions_total{backend=\"remote\"," + move + "} 1");
            }
            assertEquals(200, predict(gateway, "remote").statusCode());
            assertEquals(7, backend.calls());
        }
    }

    @Test
    void theShippedExampleOpensAfterFiveFailuresInTen() throws Exception {
        AtomicBoolean healthy = new AtomicBoolean(true);
        String example = Files.readString(Path.of("../../conf/examples/breaker.yaml"))
                .replace("type: circuit-breaker", "type: stepped-circuit-breaker");
        try (TestBackend backend = recoveringBackend(healthy);
                RunningGateway gateway = RunningGateway.start(example, null,
                        Map.of("MODELGATE_BACKEND_URL", backend.url("/v1/models/remote:predict")))) {
            for (int i = 0; i < 5; i++) {
                assertEquals(200, predict(gateway, "remote").statusCode());
            }
            healthy.set(false);
            for (int i = 0; i < 5; i++) {
                assertEquals(502, predict(gateway, "remote").statusCode());
            }

            HttpResponse<String> refused = predict(gateway, "remote");

            assertEquals(30201, Answers.code(refused), refused.body());
            assertEquals("2", refused.headers().firstValue("Retry-After").orElseThrow());
            assertEquals(10, backend.calls());
        }
    }

    @Test
    void aHalfOpenTrialTheBackendFailsGivesItsPermitBackAndOpensTheCircuitAgain() throws Exception {
        AtomicBoolean healthy = new AtomicBoolean(false);
        try (TestBackend backend = recoveringBackend(healthy);
                RunningGateway gateway = guarding(backend, 1)) {
            for (int i = 0; i < 4; i++) {
                assertEquals(502, predict(gateway, "remote").statusCode());
            }
            SteppedCircuitBreakerProvider.step(Duration.ofMillis(500));
            gateway.assertMetric("modelgate_circuit_state{backend=\"remote\"} 2");

            HttpResponse<String> trial = predict(gateway, "remote");

            assertEquals(40005, Answers.code(trial), trial.body());
            // The one trial permit came back with its failure: open again, not half-open with no permit left.
            gateway.awaitMetric("modelgate_circuit_state{backend=\"remote\"} 1");
            gateway.assertMetric("modelgate_circuit_transitions_total{backend=\"remote\",from=\"half-open\","
                    + "to=\"open\"} 1");
            healthy.set(true);
            SteppedCircuitBreakerProvider.step(Duration.ofMillis(500));
            assertEquals(200, predict(gateway, "remote").statusCode());
            gateway.awaitMetric("modelgate_circuit_state{backend=\"remote\"} 0");
            assertEquals(6, backend.calls());
        }
    }
}
