package dev.modelgate.spi.testing;

import com.fasterxml.jackson.databind.JsonNode;
import dev.modelgate.spi.Attribute;
import dev.modelgate.spi.ErrorCode;
import dev.modelgate.spi.Exchange;
import dev.modelgate.spi.Headers;
import dev.modelgate.spi.Operation;
import dev.modelgate.spi.Response;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Consumer;

/**
 * An exchange with just what codecs and in-process backends read of one call: its dialect, model, version and verb,
 * attributes, and a deadline. Anything else fails the test, so a codec that starts reading more is noticed. For unit
 * tests of plugins that need no gateway; tests of the pipeline start a real one.
 */
public final class CodecExchange implements Exchange {

    private final String dialect;
    private final String model;
    private final String version;
    private final String verb;
    private final long deadlineNanos;
    private final Map<Attribute<?>, Object> attributes = new HashMap<>();

    private CodecExchange(String dialect, String model, String version, String verb, long deadlineNanos) {
        this.dialect = dialect;
        this.model = model;
        this.version = version;
        this.verb = verb;
        this.deadlineNanos = deadlineNanos;
    }

    /** A call of {@code verb} on {@code model} (and {@code version}, or {@code null}) in {@code dialect}. */
    public static CodecExchange call(String dialect, String model, String version, String verb) {
        return new CodecExchange(dialect, model, version, verb, Long.MAX_VALUE);
    }

    /** The same call, due at {@code deadlineNanos} ({@link System#nanoTime()}). */
    public CodecExchange dueAt(long deadlineNanos) {
        return new CodecExchange(dialect, model, version, verb, deadlineNanos);
    }

    @Override
    public String dialect() {
        return dialect;
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
    public long deadlineNanos() {
        return deadlineNanos;
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

    private static UnsupportedOperationException unused(String method) {
        return new UnsupportedOperationException("a codec test's exchange has no " + method);
    }

    @Override
    public String method() {
        throw unused("method");
    }

    @Override
    public String path() {
        throw unused("path");
    }

    @Override
    public String queryParameter(String name) {
        throw unused("query");
    }

    @Override
    public Headers requestHeaders() {
        throw unused("headers");
    }

    @Override
    public String clientAddress() {
        throw unused("client address");
    }

    @Override
    public String peerAddress() {
        throw unused("peer address");
    }

    @Override
    public Operation operation() {
        return Operation.PREDICT;
    }

    @Override
    public String apiVersion() {
        throw unused("API version");
    }

    @Override
    public String backendName() {
        throw unused("backend name");
    }

    @Override
    public long startNanos() {
        throw unused("start time");
    }

    @Override
    public boolean idempotent() {
        throw unused("idempotence");
    }

    @Override
    public byte[] body() {
        throw unused("body: codecs get the payload");
    }

    @Override
    public JsonNode json() {
        throw unused("JSON tree");
    }

    @Override
    public void onComplete(Consumer<Throwable> listener) {
        throw unused("completion");
    }

    @Override
    public Response error(ErrorCode errorCode, String detail) {
        throw unused("error rendering");
    }
}
