package dev.modelgate.plugins.tfserving;

import com.fasterxml.jackson.databind.JsonNode;
import dev.modelgate.spi.Attribute;
import dev.modelgate.spi.ErrorCode;
import dev.modelgate.spi.Exchange;
import dev.modelgate.spi.Headers;
import dev.modelgate.spi.Operation;
import dev.modelgate.spi.Response;
import java.util.HashMap;
import java.util.Map;

/** An exchange with what codecs read: model, version, verb and attributes. Everything else is unsupported. */
final class TestExchange implements Exchange {

    private final String model;
    private final String version;
    private final String verb;
    private final Map<Attribute<?>, Object> attributes = new HashMap<>();

    TestExchange(String model, String version, String verb) {
        this.model = model;
        this.version = version;
        this.verb = verb;
    }

    static TestExchange predict() {
        return new TestExchange("m", null, "predict");
    }

    @Override
    public String model() {
        return model;
    }

    @Override
    public String modelVersion() {
        return version;
    }

    @Override
    public String verb() {
        return verb;
    }

    @Override
    public String dialect() {
        return TfServingCodec.DIALECT;
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
    public String method() {
        throw new UnsupportedOperationException();
    }

    @Override
    public String path() {
        throw new UnsupportedOperationException();
    }

    @Override
    public String queryParameter(String name) {
        throw new UnsupportedOperationException();
    }

    @Override
    public Headers requestHeaders() {
        throw new UnsupportedOperationException();
    }

    @Override
    public String clientAddress() {
        throw new UnsupportedOperationException();
    }

    @Override
    public Operation operation() {
        return Operation.PREDICT;
    }

    @Override
    public String apiVersion() {
        return "v1";
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
        throw new UnsupportedOperationException();
    }

    @Override
    public JsonNode json() {
        throw new UnsupportedOperationException();
    }

    @Override
    public Response error(ErrorCode errorCode, String detail) {
        throw new UnsupportedOperationException();
    }
}
