package dev.modelgate.plugins.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.modelgate.kernel.Deployment;
import dev.modelgate.kernel.testing.RunningGateway;
import java.net.http.HttpResponse;

/** What the tests of this plugin do with a running gateway: predict, expect problems. */
final class Gateways {

    static final ObjectMapper JSON = new ObjectMapper();
    static final String PREDICT_PATH = "/v1/models/remote:predict";
    static final String PREDICT_BODY = "{\"instances\":[[1.0,2.0]]}";
    static final String PREDICTIONS = "{\"predictions\":[[0.25]]}";
    /** Health checks of {@code /healthz} every 10 ms, one result enough either way: tests see changes at once. */
    static final String FAST_HEALTH_CHECK = """
            health-check:
              path: /healthz
              interval: 10ms
              timeout: 1s
              healthy-threshold: 1
              unhealthy-threshold: 1
            """;

    private Gateways() {
    }

    /** A gateway routing model {@code remote} to backend {@code remote} of type {@code http}, configured so. */
    static String config(String backendSettings, String routeSettings) {
        return "backends:\n  remote:\n    type: http\n" + backendSettings.stripIndent().indent(4)
                + "routes:\n  - model: remote\n    backend: remote\n" + routeSettings.stripIndent().indent(4);
    }

    static HttpResponse<String> predict(RunningGateway gateway, String... headers) {
        return gateway.post(PREDICT_PATH, "application/json", PREDICT_BODY, headers);
    }

    /** Starting a gateway on {@code config} fails with exactly one problem, which starts with {@code expected}. */
    static void assertProblem(String config, String expected) {
        Deployment.InvalidConfigException invalid = assertThrows(Deployment.InvalidConfigException.class,
                () -> RunningGateway.start(config).close());

        assertEquals(1, invalid.problems().size(), invalid.getMessage());
        assertTrue(invalid.problems().getFirst().startsWith(expected), invalid.getMessage());
    }
}
