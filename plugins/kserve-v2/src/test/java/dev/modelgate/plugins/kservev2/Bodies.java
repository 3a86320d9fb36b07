package dev.modelgate.plugins.kservev2;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.modelgate.spi.ErrorCode;
import dev.modelgate.spi.Headers;
import dev.modelgate.spi.RejectionException;
import dev.modelgate.spi.inference.Payload;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.function.Executable;

/** Builds request bodies as clients send them, and checks rejections by code. */
final class Bodies {

    private Bodies() {
    }

    static Payload json(String json) {
        return new Payload("application/json", json.getBytes(StandardCharsets.UTF_8));
    }

    /** A binary-extension body: the JSON header, then {@code binary}, with the header length in its header. */
    static Payload binary(String header, byte[]... binary) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        byte[] json = header.getBytes(StandardCharsets.UTF_8);
        body.writeBytes(json);
        for (byte[] part : binary) {
            body.writeBytes(part);
        }
        return withHeaderLength(body.toByteArray(), json.length);
    }

    static Payload withHeaderLength(byte[] body, int headerLength) {
        return new Payload("application/octet-stream",
                new Headers().set("Inference-Header-Content-Length", Integer.toString(headerLength)), body);
    }

    static ByteBuffer littleEndian(int capacity) {
        return ByteBuffer.allocate(capacity).order(ByteOrder.LITTLE_ENDIAN);
    }

    /** BYTES elements as the binary section holds them: a 4-byte little-endian length before each. */
    static byte[] lengthPrefixed(String... elements) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (String element : elements) {
            byte[] bytes = element.getBytes(StandardCharsets.UTF_8);
            out.writeBytes(littleEndian(4).putInt(bytes.length).array());
            out.writeBytes(bytes);
        }
        return out.toByteArray();
    }

    static String text(byte[] bytes, int from, int to) {
        return new String(bytes, from, to - from, StandardCharsets.UTF_8);
    }

    static RejectionException assertRejected(ErrorCode code, Executable call) {
        RejectionException rejection = assertThrows(RejectionException.class, call);
        assertEquals(code, rejection.errorCode(), rejection::getMessage);
        return rejection;
    }
}
