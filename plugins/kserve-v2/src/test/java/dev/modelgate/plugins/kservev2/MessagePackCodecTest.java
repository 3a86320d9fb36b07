package dev.modelgate.plugins.kservev2;

import static dev.modelgate.plugins.kservev2.Bodies.assertRejected;
import static dev.modelgate.plugins.kservev2.Tensors.assertSameTensors;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.modelgate.spi.CoreErrors;
import dev.modelgate.spi.inference.DataType;
import dev.modelgate.spi.inference.InferenceRequest;
import dev.modelgate.spi.inference.InferenceResponse;
import dev.modelgate.spi.inference.Payload;
import dev.modelgate.spi.inference.Tensor;
import dev.modelgate.spi.testing.CodecExchange;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.msgpack.core.MessageBufferPacker;
import org.msgpack.core.MessagePack;
import org.msgpack.core.MessagePacker;

class MessagePackCodecTest {

    private final KServeV2Codec codec = KServeV2Codec.msgpack();

    @Test
    void aBodyPackedByMsgpackCoreDecodesToTheTensorsOfItsJsonForm() throws IOException {
        InferenceRequest fromJson = KServeV2Codec.json().decodeRequest(Bodies.json("""
                {"id":"7","parameters":{"priority":2},
                 "inputs":[{"name":"x","shape":[2,2],"datatype":"FP32","data":[[1.5,2],[3,4]]},
                           {"name":"s","shape":[2],"datatype":"BYTES","data":["a","bc"]},
                           {"name":"b","shape":[1],"datatype":"BOOL","data":[true]}],
                 "outputs":[{"name":"y"}]}"""), CodecExchange.call("kserve-v2", "m", null, "infer"), null);

        InferenceRequest fromMsgpack = codec.decodeRequest(new Payload("application/msgpack", packedRequest()),
                CodecExchange.call("kserve-v2", "m", null, "infer"), null);

        assertEquals(fromJson.id(), fromMsgpack.id());
        assertEquals(fromJson.parameters(), fromMsgpack.parameters());
        assertEquals(fromJson.outputs(), fromMsgpack.outputs());
        assertSameTensors(fromJson.inputs(), fromMsgpack.inputs());
    }

    @Test
    void msgpackBinValuesAreBytesElements() throws IOException {
        MessageBufferPacker packer = MessagePack.newDefaultBufferPacker();
        packer.packMapHeader(1).packString("inputs").packArrayHeader(1);
        input(packer, "s", "BYTES", 2);
        packer.packArrayHeader(2).packBinaryHeader(2).writePayload(new byte[] {(byte) 0xFF, 0}).packString("ok");

        Tensor s = codec.decodeRequest(new Payload("application/msgpack", packer.toByteArray()),
                CodecExchange.call("kserve-v2", "m", null, "infer"), null).input("s");

        assertEquals(ByteBuffer.wrap(new byte[] {(byte) 0xFF, 0}), s.bytesAt(0));
    }

    @ParameterizedTest
    @EnumSource(DataType.class)
    void everyDataTypeRoundTripsThroughMsgpackWithoutABinarySection(DataType type) throws Exception {
        Tensor sample = Tensors.sample(type);
        InferenceRequest request = new InferenceRequest("m", null, null, List.of(sample), List.of(), Map.of());

        Payload forwarded = codec.encodeRequest(request);
        Payload answer = codec.encodeResponse(new InferenceResponse("m", null, null, List.of(sample), Map.of()),
                CodecExchange.call("kserve-v2", "m", null, "infer"));

        assertEquals("application/msgpack", forwarded.contentType());
        assertFalse(answer.headers().contains("Inference-Header-Content-Length"));
        assertSameTensors(List.of(sample), codec.decodeRequest(forwarded, CodecExchange.call("kserve-v2", "m", null, "infer"), null).inputs());
        assertSameTensors(List.of(sample), codec.decodeResponse(answer, request).outputs());
    }

    @Test
    void truncatedMsgpackIsAMalformedBody() throws IOException {
        byte[] whole = packedRequest();
        for (int length : new int[] {1, whole.length / 2, whole.length - 1}) {
            Payload truncated = new Payload("application/msgpack", Arrays.copyOf(whole, length));
            assertRejected(CoreErrors.MALFORMED_BODY, () -> codec.decodeRequest(truncated, CodecExchange.call("kserve-v2", "m", null, "infer"),
                    null));
        }
    }

    @Test
    void aSecondValueAfterTheRequestIsAMalformedBody() throws IOException {
        byte[] request = packedRequest();
        byte[] twice = Arrays.copyOf(request, request.length * 2);
        System.arraycopy(request, 0, twice, request.length, request.length);

        assertRejected(CoreErrors.MALFORMED_BODY, () -> codec.decodeRequest(new Payload("application/x-msgpack",
                twice), CodecExchange.call("kserve-v2", "m", null, "infer"), null));
    }

    @Test
    void theCodecReadsBothMsgpackMediaTypes() {
        assertTrue(codec.reads("application/msgpack"));
        assertTrue(codec.reads("application/x-msgpack"));
        assertFalse(codec.reads("application/json"));
    }

    /** The JSON request of the first test, packed value by value with msgpack-core. */
    private static byte[] packedRequest() throws IOException {
        MessageBufferPacker packer = MessagePack.newDefaultBufferPacker();
        packer.packMapHeader(4);
        packer.packString("id").packString("7");
        packer.packString("parameters").packMapHeader(1).packString("priority").packInt(2);
        packer.packString("inputs").packArrayHeader(3);
        input(packer, "x", "FP32", 2, 2);
        packer.packArrayHeader(2);
        packer.packArrayHeader(2).packFloat(1.5f).packInt(2);
        packer.packArrayHeader(2).packDouble(3).packLong(4);
        input(packer, "s", "BYTES", 2);
        packer.packArrayHeader(2).packString("a").packString("bc");
        input(packer, "b", "BOOL", 1);
        packer.packArrayHeader(1).packBoolean(true);
        packer.packString("outputs").packArrayHeader(1).packMapHeader(1).packString("name").packString("y");
        return packer.toByteArray();
    }

    /** An input map's name, shape and datatype, leaving its "data" value for the caller to pack. */
    private static void input(MessagePacker packer, String name, String type, long... shape) throws IOException {
        packer.packMapHeader(4);
        packer.packString("name").packString(name);
        packer.packString("shape").packArrayHeader(shape.length);
        for (long dimension : shape) {
            packer.packLong(dimension);
        }
        packer.packString("datatype").packString(type);
        packer.packString("data");
    }
}
