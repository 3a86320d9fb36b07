package dev.modelgate.plugins.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.modelgate.kernel.Deployment;
import dev.modelgate.kernel.testing.RunningGateway;
import java.net.http.HttpResponse;
import java.time.Instant;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;

/** What the tests of this plugin do with a running gateway: predict, read metrics, expect problems. */
final class Gateways {

    static final ObjectMapper JSON = new ObjectMapper();
    static final String PREDICT_PATH = "/v1/models/remote:predict";
    static final String PREDICT_BODY = "{\"instances\":[[1.0,2.0]]}";
    static final String PREDICTIONS = "{\"predictions\":[[0.25]]}";

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

    static void assertError(HttpResponse<String> response, int status, int code) throws Exception {
        assertEquals(status, response.statusCode(), response.body());
        assertEquals(code, JSON.readTree(response.body()).get("code").asInt(), response.body());
    }

    /** Waits for {@code done}, failing after ten seconds. */
    static void await(String condition, BooleanSupplier done) {
        Instant deadline = Instant.now().plusSeconds(10);
        while (!done.getAsBoolean()) {
            assertTrue(Instant.now().isBefore(deadline), "waited 10s for " + condition);
            Thread.onSpinWait();
        }
    }

    /** The value of one sample on the admin listener's {@code /metrics}, or -1 when it is missing. */
    static double metric(RunningGateway gateway, String name, Map<String, String> labels) {
        String sample = name + new TreeMap<>(labels).entrySet().stream()
                .map(label -> label.getKey() + "=\"" + label.getValue() + "\"")
                .collect(Collectors.joining(",", "{", "}")) + " ";
        return gateway.adminGet("/metrics").body().lines()
                .filter(line -> line.startsWith(sample))
                .mapToDouble(line -> Double.parseDouble(line.substring(sample.length()).strip()))
                .findFirst().orElse(-1);
    }

    /** Starting a gateway on {@code config} fails with exactly one problem, which starts with {@code expected}. */
    static void assertProblem(String config, String expected) {
        Deployment.InvalidConfigException invalid = assertThrows(Deployment.InvalidConfigException.class,
                () -> RunningGateway.start(config).close());

        assertEquals(1, invalid.problems().size(), invalid.getMessage());
        assertTrue(invalid.problems().getFirst().startsWith(expected), invalid.getMessage());
    }
}
