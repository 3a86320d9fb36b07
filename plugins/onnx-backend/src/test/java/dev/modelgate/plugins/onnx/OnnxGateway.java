package dev.modelgate.plugins.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.TextNode;
import dev.modelgate.kernel.Deployment;
import dev.modelgate.kernel.testing.RunningGateway;
import dev.modelgate.spi.CoreErrors;
import dev.modelgate.spi.ErrorCode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.http.HttpResponse;
import java.util.List;

/**
 * A real gateway on loopback whose one route, {@code onnx}, is served by an onnx backend of that name, and what it
 * answers over HTTP, read out of the gateway's envelope.
 */
final class OnnxGateway implements AutoCloseable {

    static final String DEMO_MODEL = "classpath:models/demo.onnx";

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String NAME = "onnx";

    private final RunningGateway gateway;

    private OnnxGateway(RunningGateway gateway) {
        this.gateway = gateway;
    }

    /** Starts a gateway whose backend has {@code settings}, each a YAML line such as {@code max-batch: 3}. */
    static OnnxGateway start(String... settings) throws Exception {
        return new OnnxGateway(RunningGateway.start(config(settings)));
    }

    /** The problems, by key path, for which a gateway whose backend has {@code settings} refuses to start. */
    static List<String> problemsStarting(String... settings) {
        Deployment.InvalidConfigException invalid = assertThrows(Deployment.InvalidConfigException.class,
                () -> RunningGateway.start(config(settings)).close());
        return invalid.problems();
    }

    /** The setting that loads the model at {@code location}: a file path, or {@code classpath:} and a resource. */
    static String model(Object location) {
        return "model: " + TextNode.valueOf(location.toString()); // a JSON string is a double-quoted YAML scalar
    }

    private static String config(String... settings) {
        return """
                server:
                  address: 127.0.0.1
                backends:
                  %1$s:
                    type: onnx
                    %2$s
                routes:
                  - model: %1$s
                    backend: %1$s
                """.formatted(NAME, String.join("\n    ", settings));
    }

    /** The {@code data} of a successful predict of {@code body}, failing the test on any other answer. */
    JsonNode predict(String body) {
        HttpResponse<String> response = post(body);

        assertEquals(200, response.statusCode(), response.body());
        assertEquals("application/json", response.headers().firstValue("Content-Type").orElse(null));
        return success(response);
    }

    /** The gateway's answer to a predict of {@code body}, whatever it is. */
    HttpResponse<String> post(String body) {
        return gateway.post("/v1/models/" + NAME + ":predict", "application/json", body);
    }

    /** Asserts that the gateway answers a predict of {@code body} with an input mismatch saying {@code detail}. */
    void assertInputMismatch(String body, String detail) {
        assertRejected(CoreErrors.INPUT_MISMATCH, body, detail);
    }

    /** Asserts that the gateway answers a predict of {@code body} with {@code expected} and {@code detail}. */
    void assertRejected(ErrorCode expected, String body, String detail) {
        HttpResponse<String> response = post(body);
        JsonNode json = read(response);

        assertEquals(expected.httpStatus(), response.statusCode(), response.body());
        assertEquals(expected.code(), json.get("code").asInt(), response.body());
        assertEquals(expected.summary() + ": " + detail, json.get("message").asText());
    }

    /** The model's metadata, as the gateway describes the model. */
    JsonNode metadata() {
        HttpResponse<String> response = gateway.get("/v1/models/" + NAME);

        assertEquals(200, response.statusCode(), response.body());
        return success(response).get("metadata");
    }

    private static JsonNode success(HttpResponse<String> response) {
        JsonNode json = read(response);
        assertEquals(0, json.get("code").asInt(), response.body());
        assertEquals("success", json.get("message").asText(), response.body());
        return json.get("data");
    }

    private static JsonNode read(HttpResponse<String> response) {
        try {
            return JSON.readTree(response.body());
        } catch (IOException e) {
            throw new UncheckedIOException("not JSON: " + response.body(), e);
        }
    }

    @Override
    public void close() throws IOException {
        gateway.close();
    }
}
