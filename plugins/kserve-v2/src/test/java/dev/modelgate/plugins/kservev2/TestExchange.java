package dev.modelgate.plugins.kservev2;

import com.fasterxml.jackson.databind.JsonNode;
import dev.modelgate.spi.Attribute;
import dev.modelgate.spi.ErrorCode;
import dev.modelgate.spi.Exchange;
import dev.modelgate.spi.Headers;
import dev.modelgate.spi.Operation;
import dev.modelgate.spi.Response;
import java.util.HashMap;
import java.util.Map;

/** An infer call on a model, with only what codecs use: model, version, verb and attributes. */
final class TestExchange implements Exchange {

    private final String model;
    private final String version;
    private final Map<Attribute<?>, Object> attributes = new HashMap<>();

    TestExchange(String model, String version) {
        this.model = model;
        this.version = version;
    }

    TestExchange(String model) {
        this(model, null);
    }

    @Override
    public String method() {
        return "POST";
    }

    @Override
    public String path() {
        return "/v2/models/" + model + "/infer";
    }

    @Override
    public String queryParameter(String name) {
        return null;
    }

    @Override
    public Headers requestHeaders() {
        return new Headers();
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
        return model;
    }

    @Override
    public String dialect() {
        return KServeV2Codec.DIALECT;
    }

    @Override
    public String modelVersion() {
        return version;
    }

    @Override
    public String verb() {
        return "infer";
    }

    @Override
    public String apiVersion() {
        return "v2";
    }

    @Override
    public String backendName() {
        return null;
    }

    @Override
    public long startNanos() {
        return 0;
    }

    @Override
    public long deadlineNanos() {
        return Long.MAX_VALUE;
    }

    @Override
    public boolean idempotent() {
        return false;
    }

    @Override
    public byte[] body() {
        throw new UnsupportedOperationException("codecs read the payload, not the exchange");
    }

    @Override
    public JsonNode json() {
        throw new UnsupportedOperationException("codecs read the payload, not the exchange");
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
        throw new UnsupportedOperationException("codecs reject by throwing");
    }
}
