package dev.modelgate.plugins.tfserving;

import static dev.modelgate.plugins.tfserving.Fixtures.JSON;
import static dev.modelgate.plugins.tfserving.Fixtures.MSGPACK;
import static dev.modelgate.plugins.tfserving.Fixtures.assertRejected;
import static dev.modelgate.plugins.tfserving.Fixtures.json;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.modelgate.spi.CoreErrors;
import dev.modelgate.spi.Exchange;
import dev.modelgate.spi.inference.DataType;
import dev.modelgate.spi.inference.InferenceRequest;
import dev.modelgate.spi.inference.InferenceResponse;
import dev.modelgate.spi.inference.Payload;
import dev.modelgate.spi.inference.Tensor;
import dev.modelgate.spi.testing.CodecExchange;
import java.io.IOException;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.msgpack.core.MessageBufferPacker;
import org.msgpack.core.MessagePack;
import org.msgpack.core.MessageUnpacker;

class MessagePackTest {

    /** {"signature_name": "s", "instances": [{"tag": "foo", "signal": [1, 2.5]}, {"tag": "bar", "signal": [3, 4]}]} */
    private static byte[] packedInstances() throws IOException {
        try (MessageBufferPacker packer = MessagePack.newDefaultBufferPacker()) {
            packer.packMapHeader(2).packString("signature_name").packString("s");
            packer.packString("instances").packArrayHeader(2);
            packer.packMapHeader(2).packString("tag").packString("foo");
            packer.packString("signal").packArrayHeader(2).packInt(1).packFloat(2.5f);
            packer.packMapHeader(2).packString("tag").packString("bar");
            packer.packString("signal").packArrayHeader(2).packLong(3).packDouble(4);
            return packer.toByteArray();
        }
    }

    private static final String SAME_AS_JSON = "{\"signature_name\": \"s\", \"instances\": [{\"tag\": \"foo\", "
            + "\"signal\": [1, 2.5]}, {\"tag\": \"bar\", \"signal\": [3, 4.0]}]}";

    @Test
    void aBodyPackedByMsgpackCoreDecodesToTheTensorsOfItsJsonTwin() throws IOException {
        InferenceRequest packed = MSGPACK.decodeRequest(new Payload("application/msgpack", packedInstances()),
                CodecExchange.call(TfServingCodec.DIALECT, "m", null, "predict"), null);
        InferenceRequest text = JSON.decodeRequest(json(SAME_AS_JSON), CodecExchange.call(TfServingCodec.DIALECT, "m", null, "predict"), null);
        assertEquals(text.parameters(), packed.parameters());
        assertEquals(text.inputs().size(), packed.inputs().size());
        for (Tensor expected : text.inputs()) {
            Tensor actual = packed.input(expected.name());
            Fixtures.assertTensor(actual, expected.name(), expected.type(), expected.shape());
            if (expected.type() == DataType.BYTES) {
                assertEquals(Fixtures.strings(expected), Fixtures.strings(actual));
            } else {
                assertEquals(Fixtures.numbers(expected), Fixtures.numbers(actual));
            }
        }
    }

    @Test
    void msgpackIsReadUnderBothMediaTypesAndWrittenAsApplicationMsgpack() {
        assertTrue(MSGPACK.reads("application/msgpack"));
        assertTrue(MSGPACK.reads("application/x-msgpack"));
        assertEquals("application/msgpack", MSGPACK.mediaType());
        assertEquals("tf-serving", MSGPACK.dialect());
    }

    @Test
    void binValuesAreBytesElements() throws IOException {
        byte[] body;
        try (MessageBufferPacker packer = MessagePack.newDefaultBufferPacker()) {
            packer.packMapHeader(1).packString("inputs").packArrayHeader(1).packBinaryHeader(3)
                    .writePayload(new byte[] {1, 2, 3});
            body = packer.toByteArray();
        }
        Tensor input = MSGPACK.decodeRequest(new Payload("application/x-msgpack", body), CodecExchange.call(TfServingCodec.DIALECT, "m", null, "predict"), null)
                .inputs().getFirst();
        byte[] element = new byte[3];
        input.bytesAt(0).get(element);
        assertArrayEquals(new byte[] {1, 2, 3}, element);
    }

    @Test
    void answersArePackedWithTheSameKeysAsJson() throws IOException {
        Exchange exchange = CodecExchange.call(TfServingCodec.DIALECT, "m", null, "predict");
        MSGPACK.decodeRequest(new Payload("application/msgpack", packedInstances()), exchange, null);
        Payload payload = MSGPACK.encodeResponse(new InferenceResponse("m", null, null,
                List.of(Tensor.ofFloats("y", new long[] {2}, 0.5f, Float.NaN)), Map.of()), exchange);
        assertEquals("application/msgpack", payload.contentType());
        try (MessageUnpacker unpacker = MessagePack.newDefaultUnpacker(payload.body())) {
            assertEquals(1, unpacker.unpackMapHeader());
            assertEquals("predictions", unpacker.unpackString());
            assertEquals(2, unpacker.unpackArrayHeader());
            assertEquals(0.5f, unpacker.unpackFloat());
            assertTrue(Float.isNaN(unpacker.unpackFloat()));
        }
    }

    @Test
    void truncatedMsgpackIsAMalformedBody() throws IOException {
        byte[] whole = packedInstances();
        for (int length : new int[] {0, 1, whole.length / 2, whole.length - 1}) {
            byte[] truncated = Arrays.copyOf(whole, length);
            assertRejected(CoreErrors.MALFORMED_BODY, () -> MSGPACK.decodeRequest(
                    new Payload("application/msgpack", truncated), CodecExchange.call(TfServingCodec.DIALECT, "m", null, "predict"), null));
        }
    }

    @Test
    void trailingMsgpackIsAMalformedBody() throws IOException {
        byte[] whole = packedInstances();
        byte[] longer = Arrays.copyOf(whole, whole.length + 1);
        longer[whole.length] = 0x01;
        assertRejected(CoreErrors.MALFORMED_BODY, () -> MSGPACK.decodeRequest(
                new Payload("application/msgpack", longer), CodecExchange.call(TfServingCodec.DIALECT, "m", null, "predict"), null));
    }
}
