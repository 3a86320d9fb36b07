package dev.modelgate.plugins.circuitbreaker;

import static dev.modelgate.kernel.testing.Answers.code;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.modelgate.kernel.Reloader;
import dev.modelgate.kernel.testing.RunningGateway;
import org.junit.jupiter.api.Test;

/** A reload carries a backend's open circuit over while its configuration stays; a changed one starts closed. */
class CircuitBreakerReloadTest {

    private static final String CONFIG = """
            backends:
              broken:
                type: echo
                fail: status-500
                filters:
                  - type: circuit-breaker
                    window-size: %d
                    wait-in-open: 1h
              healthy:
                type: echo
            routes:
              - model: broken
                backend: broken
              - model: %s
                backend: healthy
            """;

    private static int predict(RunningGateway gateway, String model) {
        return code(gateway.post("/v1/models/" + model + ":predict", "application/json", "{\"instances\":[[1]]}"));
    }

    @Test
    void anOpenCircuitSurvivesAReloadThatLeavesItsBackendAlone() throws Exception {
        try (RunningGateway gateway = RunningGateway.start(CONFIG.formatted(2, "healthy"))) {
            predict(gateway, "broken");
            predict(gateway, "broken");
            assertEquals(30201, predict(gateway, "broken"), "the circuit opened");

            Reloader.Outcome unrelated = gateway.reload(CONFIG.formatted(2, "renamed"));
            assertTrue(unrelated.applied(), unrelated.problems().toString());
            assertEquals(0, predict(gateway, "renamed"));
            assertEquals(30201, predict(gateway, "broken"), "the open circuit was carried over");

            Reloader.Outcome changed = gateway.reload(CONFIG.formatted(3, "renamed"));
            assertTrue(changed.applied(), changed.problems().toString());
            assertEquals(40005, predict(gateway, "broken"), "a rebuilt breaker starts closed");
        }
    }
}
