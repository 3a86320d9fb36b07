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
import dev.modelgate.spi.inference.ItemError;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;

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

    /** A MessagePack string: a fixstr when shorter than 32 bytes, else a str 32. */
    private static void msgpackString(ByteArrayOutputStream out, String text) {
        byte[] utf8 = text.getBytes(StandardCharsets.UTF_8);
        if (utf8.length < 32) {
            out.write(0xa0 | utf8.length);
        } else {
            out.write(0xdb);
            writeInt(out, utf8.length);
        }
        out.writeBytes(utf8);
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

    /**
     * A codec's encoded answer whose items partly failed, as the envelope of the per-item form:
     * {@code {"code":0,"message":"1 of 3 items failed","data":{...,"items":[{"code":0,"message":"success"},
     * {"code":40006,"message":"..."},...]}}}, one entry of {@code data.items} per item, in order, alongside the
     * outputs. In JSON or MessagePack, as {@code data} is.
     *
     * @param items how many items the answer has
     */
    static byte[] withItems(String mediaType, byte[] data, List<ItemError> itemErrors, int items) {
        boolean msgpack = mediaType.equals("application/msgpack");
        ByteArrayOutputStream out = new ByteArrayOutputStream(data.length + 64 + 32 * items);
        String summary = itemErrors.size() + " of " + items + (items == 1 ? " item" : " items") + " failed";
        if (msgpack) {
            out.write(0x83);
            msgpackString(out, "code");
            out.write(0x00);
            msgpackString(out, "message");
            msgpackString(out, summary);
            msgpackString(out, "data");
            out.writeBytes(msgpackMapWithOneMore(data));
            msgpackString(out, "items");
            msgpackItems(out, itemErrors, items);
            return out.toByteArray();
        }
        out.writeBytes(("{\"code\":0,\"message\":\"" + summary + "\",\"data\":").getBytes(StandardCharsets.US_ASCII));
        int end = lastByte(data, (byte) '}');
        out.write(data, 0, end);
        if (lastByte(data, end, (byte) '{') < 0) {
            out.write(',');
        }
        out.writeBytes("\"items\":".getBytes(StandardCharsets.US_ASCII));
        try (JsonGenerator json = FACTORY.createGenerator(out)) {
            json.writeStartArray();
            for (ItemStatus status : statuses(itemErrors, items)) {
                json.writeStartObject();
                json.writeNumberField("code", status.code());
                json.writeStringField("message", status.message());
                json.writeEndObject();
            }
            json.writeEndArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        out.write('}');
        out.write('}');
        return out.toByteArray();
    }

    /** The index of the last {@code wanted} byte, or -1. */
    private static int lastByte(byte[] data, byte wanted) {
        for (int i = data.length - 1; i >= 0; i--) {
            if (data[i] == wanted) {
                return i;
            }
        }
        return -1;
    }

    /** The index of {@code wanted} when it is the last byte before {@code end} but whitespace, else -1. */
    private static int lastByte(byte[] data, int end, byte wanted) {
        for (int i = end - 1; i >= 0; i--) {
            if (!Character.isWhitespace(data[i])) {
                return data[i] == wanted ? i : -1;
            }
        }
        return -1;
    }

    /** A MessagePack map, its header counting one entry more: the caller appends it. */
    private static byte[] msgpackMapWithOneMore(byte[] map) {
        int head = map[0] & 0xff;
        ByteArrayOutputStream out = new ByteArrayOutputStream(map.length + 4);
        if (head >= 0x80 && head < 0x8f) {
            out.write(head + 1);
            out.write(map, 1, map.length - 1);
        } else if (head == 0x8f) {
            out.write(0xde);
            out.write(0);
            out.write(16);
            out.write(map, 1, map.length - 1);
        } else if (head == 0xde) {
            int count = ((map[1] & 0xff) << 8 | map[2] & 0xff) + 1;
            out.write(0xde);
            out.write(count >>> 8);
            out.write(count & 0xff);
            out.write(map, 3, map.length - 3);
        } else {
            throw new IllegalArgumentException("not a MessagePack map of fewer than 65535 entries");
        }
        return out.toByteArray();
    }

    private static void msgpackItems(ByteArrayOutputStream out, List<ItemError> itemErrors, int items) {
        if (items < 16) {
            out.write(0x90 | items);
        } else {
            out.write(0xdd);
            writeInt(out, items);
        }
        for (ItemStatus status : statuses(itemErrors, items)) {
            out.write(0x82);
            msgpackString(out, "code");
            out.write(0xce); // uint 32: codes reach 99999
            writeInt(out, status.code());
            msgpackString(out, "message");
            msgpackString(out, status.message());
        }
    }

    /** One entry of {@code data.items}. */
    private record ItemStatus(int code, String message) {
    }

    /** Every item's status, in order: success, or its error's code and message. */
    private static List<ItemStatus> statuses(List<ItemError> itemErrors, int items) {
        List<ItemStatus> statuses = new java.util.ArrayList<>(items);
        int next = 0;
        for (int i = 0; i < items; i++) {
            if (next < itemErrors.size() && itemErrors.get(next).index() == i) {
                ItemError failed = itemErrors.get(next++);
                statuses.add(new ItemStatus(failed.error().code(), message(failed.error(), failed.message())));
            } else {
                statuses.add(new ItemStatus(0, "success"));
            }
        }
        return statuses;
    }

    private static void writeInt(ByteArrayOutputStream out, int value) {
        out.write(value >>> 24);
        out.write(value >>> 16 & 0xff);
        out.write(value >>> 8 & 0xff);
        out.write(value & 0xff);
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
