package dev.modelgate.kernel;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.modelgate.spi.ErrorCode;
import dev.modelgate.spi.Json;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/**
 * The gateway's response envelope: {@code {"code":0,"message":"success","data":{...}}} on success,
 * {@code {"code":40001,"message":"unknown model: 'x'"}} on failure.
 */
final class Envelope {

    static final ObjectMapper JSON = Json.MAPPER;
    private static final JsonFactory FACTORY = Json.FACTORY;
    private static final byte[] SUCCESS_PREFIX =
            "{\"code\":0,\"message\":\"success\",\"data\":".getBytes(StandardCharsets.US_ASCII);

    private Envelope() {
    }

    static byte[] success(JsonNode data) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(256);
        out.writeBytes(SUCCESS_PREFIX);
        try {
            JSON.writeValue(out, data);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        out.write('}');
        return out.toByteArray();
    }

    /**
     * Wraps a backend's JSON object as {@code data} without building a tree: the bytes are checked with a streaming
     * parser and copied as they are.
     *
     * @throws IOException when {@code object} is not exactly one well-formed JSON object
     */
    static byte[] wrapSuccess(byte[] object) throws IOException {
        try (JsonParser parser = FACTORY.createParser(object)) {
            if (parser.nextToken() != JsonToken.START_OBJECT) {
                throw new IOException("not a JSON object");
            }
            parser.skipChildren();
            if (parser.nextToken() != null) {
                throw new IOException("content after the JSON object");
            }
        }
        byte[] wrapped = new byte[SUCCESS_PREFIX.length + object.length + 1];
        System.arraycopy(SUCCESS_PREFIX, 0, wrapped, 0, SUCCESS_PREFIX.length);
        System.arraycopy(object, 0, wrapped, SUCCESS_PREFIX.length, object.length);
        wrapped[wrapped.length - 1] = '}';
        return wrapped;
    }

    static byte[] error(ErrorCode errorCode, String detail) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(128);
        try (JsonGenerator json = FACTORY.createGenerator(out)) {
            json.writeStartObject();
            json.writeNumberField("code", errorCode.code());
            json.writeStringField("message",
                    detail == null || detail.isBlank() ? errorCode.summary() : errorCode.summary() + ": " + detail);
            json.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }
}
