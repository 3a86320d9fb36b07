package dev.modelgate.kernel;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.modelgate.spi.CoreErrors;
import dev.modelgate.spi.ErrorCode;
import dev.modelgate.spi.Json;
import dev.modelgate.spi.RejectionException;
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
    /** {@code {"code":0,"message":"success","data":} as a MessagePack map of three entries, before the data. */
    private static final byte[] MSGPACK_SUCCESS_PREFIX = msgpackSuccessPrefix();

    private Envelope() {
    }

    private static byte[] msgpackSuccessPrefix() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(0x83); // a map of 3 entries
        msgpackString(out, "code");
        out.write(0x00); // positive fixint 0
        msgpackString(out, "message");
        msgpackString(out, "success");
        msgpackString(out, "data");
        return out.toByteArray();
    }

    /** A MessagePack fixstr: these keys are ASCII and shorter than 32 bytes. */
    private static void msgpackString(ByteArrayOutputStream out, String text) {
        out.write(0xa0 | text.length());
        out.writeBytes(text.getBytes(StandardCharsets.US_ASCII));
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
     * Wraps a backend's JSON object as {@code data} without building a tree: the bytes are checked with a quick scan
     * ({@link PlainJson}), or Jackson's streaming parser when the scan cannot vouch for them, and copied as they are.
     *
     * @throws IOException when {@code object} is not exactly one well-formed JSON object
     */
    static byte[] wrapSuccess(byte[] object) throws IOException {
        if (!PlainJson.isObject(object)) {
            checkObject(object);
        }
        byte[] wrapped = new byte[SUCCESS_PREFIX.length + object.length + 1];
        System.arraycopy(SUCCESS_PREFIX, 0, wrapped, 0, SUCCESS_PREFIX.length);
        System.arraycopy(object, 0, wrapped, SUCCESS_PREFIX.length, object.length);
        wrapped[wrapped.length - 1] = '}';
        return wrapped;
    }

    /** Jackson's check of what {@link PlainJson} could not vouch for. */
    private static void checkObject(byte[] object) throws IOException {
        try (JsonParser parser = FACTORY.createParser(object)) {
            if (parser.nextToken() != JsonToken.START_OBJECT) {
                throw new IOException("not a JSON object");
            }
            parser.skipChildren();
            if (parser.nextToken() != null) {
                throw new IOException("content after the JSON object");
            }
        }
    }

    /**
     * A codec's encoded answer as {@code data}, without decoding it: the envelope's opening is written in the same
     * media type before the bytes (JSON, or a three-entry MessagePack map).
     */
    static byte[] wrapEncoded(String mediaType, byte[] data) {
        byte[] prefix = mediaType.equals("application/msgpack") ? MSGPACK_SUCCESS_PREFIX : SUCCESS_PREFIX;
        boolean json = prefix == SUCCESS_PREFIX;
        byte[] wrapped = new byte[prefix.length + data.length + (json ? 1 : 0)];
        System.arraycopy(prefix, 0, wrapped, 0, prefix.length);
        System.arraycopy(data, 0, wrapped, prefix.length, data.length);
        if (json) {
            wrapped[wrapped.length - 1] = '}';
        }
        return wrapped;
    }

    /** A protocol front's error: {@code {"error":"<summary>: <detail>","code":40001}}. */
    static byte[] protocolError(ErrorCode errorCode, String detail) {
        return protocolBody(message(errorCode, detail), errorCode);
    }

    /** A backend's refusal in its protocol's shape, {@code {"error":"..."}}, with nothing of the gateway's added. */
    static byte[] protocolMessage(String message) {
        return protocolBody(message, null);
    }

    private static byte[] protocolBody(String message, ErrorCode errorCode) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(128);
        try (JsonGenerator json = FACTORY.createGenerator(out)) {
            json.writeStartObject();
            json.writeStringField("error", message);
            if (errorCode != null) {
                json.writeNumberField("code", errorCode.code());
            }
            json.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    /** The rejection of a body Jackson could not parse, saying where: "... at line 1, column 9". */
    static RejectionException malformed(JacksonException e) {
        return new RejectionException(CoreErrors.MALFORMED_JSON, dev.modelgate.spi.Json.problem(e));
    }

    static String message(ErrorCode errorCode, String detail) {
        return detail == null || detail.isBlank() ? errorCode.summary() : errorCode.summary() + ": " + detail;
    }

    static byte[] error(ErrorCode errorCode, String detail) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(128);
        try (JsonGenerator json = FACTORY.createGenerator(out)) {
            json.writeStartObject();
            json.writeNumberField("code", errorCode.code());
            json.writeStringField("message", message(errorCode, detail));
            json.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }
}
