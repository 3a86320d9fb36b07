package dev.modelgate.plugins.onnx;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.modelgate.spi.Attribute;
import dev.modelgate.spi.Body;
import dev.modelgate.spi.ErrorCode;
import dev.modelgate.spi.Exchange;
import dev.modelgate.spi.Headers;
import dev.modelgate.spi.Operation;
import dev.modelgate.spi.Response;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

/**
 * A predict request for tests that call a backend directly, without a gateway. Errors come back as
 * {@code {"code": ..., "message": ...}} with the code's status, so tests can read both.
 */
final class PredictExchange implements Exchange {

    static final ObjectMapper JSON = new ObjectMapper();

    private final String body;
    private final Headers requestHeaders = new Headers().set("Content-Type", "application/json");
    private final Map<Attribute<?>, Object> attributes = new HashMap<>();

    private PredictExchange(String body) {
        this.body = body;
    }

    static PredictExchange of(String jsonBody) {
        return new PredictExchange(jsonBody);
    }

    /** The JSON body of a response. */
    static JsonNode read(Response response) {
        try {
            return JSON.readTree(response.body().bytes());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public String method() {
        return "POST";
    }

    @Override
    public String path() {
        return "/v1/models/demo:predict";
    }

    @Override
    public String queryParameter(String name) {
        return null;
    }

    @Override
    public Headers requestHeaders() {
        return requestHeaders;
    }

    @Override
    public String clientAddress() {
        return "127.0.0.1";
    }

    @Override
    public Operation operation() {
        return Operation.PREDICT;
    }

    @Override
    public String model() {
        return "demo";
    }

    @Override
    public String apiVersion() {
        return "v1";
    }

    @Override
    public String backendName() {
        return "demo";
    }

    @Override
    public long startNanos() {
        return 0;
    }

    @Override
    public byte[] body() {
        return body.getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public JsonNode json() {
        try {
            return JSON.readTree(body);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("test body is not JSON: " + body, e);
        }
    }

    @Override
    @SuppressWarnings("unchecked")
    public <T> T attribute(Attribute<T> key) {
        return (T) attributes.get(key);
    }

    @Override
    public <T> void setAttribute(Attribute<T> key, T value) {
        attributes.put(key, value);
    }

    @Override
    public Response error(ErrorCode errorCode, String detail) {
        String json = JSON.createObjectNode()
                .put("code", errorCode.code())
                .put("message", errorCode.summary() + (detail == null ? "" : ": " + detail))
                .toString();
        return new Response(errorCode.httpStatus(), new Headers().set("Content-Type", "application/json"),
                Body.of(json), errorCode.code());
    }
}
