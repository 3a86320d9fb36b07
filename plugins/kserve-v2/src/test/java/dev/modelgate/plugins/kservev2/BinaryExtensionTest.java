package dev.modelgate.plugins.kservev2;

import static dev.modelgate.plugins.kservev2.Bodies.assertRejected;
import static dev.modelgate.plugins.kservev2.Bodies.binary;
import static dev.modelgate.plugins.kservev2.Bodies.lengthPrefixed;
import static dev.modelgate.plugins.kservev2.Bodies.littleEndian;
import static dev.modelgate.plugins.kservev2.Bodies.text;
import static dev.modelgate.plugins.kservev2.Bodies.withHeaderLength;
import static dev.modelgate.plugins.kservev2.Tensors.assertSameTensors;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.modelgate.spi.CoreErrors;
import dev.modelgate.spi.Headers;
import dev.modelgate.spi.inference.DataType;
import dev.modelgate.spi.inference.InferenceRequest;
import dev.modelgate.spi.inference.InferenceResponse;
import dev.modelgate.spi.inference.Payload;
import dev.modelgate.spi.inference.RequestedOutput;
import dev.modelgate.spi.inference.Tensor;
import dev.modelgate.spi.testing.CodecExchange;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class BinaryExtensionTest {

    private final KServeV2Codec codec = KServeV2Codec.json();

    /** As tritonclient.http's simple_http_infer_client sends it: json.dumps spacing, binary_data_size on inputs. */
    private static final String TRITONCLIENT_HEADER = "{\"inputs\": [{\"name\": \"INPUT0\", \"shape\": [1, 16], "
            + "\"datatype\": \"INT32\", \"parameters\": {\"binary_data_size\": 64}}, {\"name\": \"INPUT1\", "
            + "\"shape\": [1, 16], \"datatype\": \"INT32\", \"parameters\": {\"binary_data_size\": 64}}], "
            + "\"outputs\": [{\"name\": \"OUTPUT0\", \"parameters\": {\"binary_data\": true}}, "
            + "{\"name\": \"OUTPUT1\", \"parameters\": {\"binary_data\": false}}]}";

    @Test
    void aTritonclientRequestDecodesAndItsAnswerHasTritonsLayout() {
        CodecExchange exchange = CodecExchange.call("kserve-v2", "simple", "1", "infer");
        InferenceRequest request = codec.decodeRequest(binary(TRITONCLIENT_HEADER, ints(0, 16), ints(1, 16)),
                exchange, null);

        assertEquals(List.of("INPUT0", "INPUT1"), request.inputs().stream().map(Tensor::name).toList());
        assertArrayEquals(new long[] {1, 16}, request.input("INPUT1").shape());
        assertEquals(15, request.input("INPUT0").longAt(15));
        assertEquals(16, request.input("INPUT1").longAt(15));
        assertEquals(List.of(new RequestedOutput("OUTPUT0", Map.of("binary_data", true)),
                new RequestedOutput("OUTPUT1", Map.of("binary_data", false))), request.outputs());

        Tensor sum = Tensor.of("OUTPUT0", DataType.INT32, new long[] {1, 16}, ByteBuffer.wrap(ints(1, 16)));
        Tensor difference = Tensor.of("OUTPUT1", DataType.INT32, new long[] {1, 2}, ByteBuffer.wrap(ints(-1, 2)));
        Payload answer = codec.encodeResponse(new InferenceResponse("simple", "1", null, List.of(sum, difference),
                Map.of()), exchange);

        String header = "{\"model_name\":\"simple\",\"model_version\":\"1\",\"outputs\":[{\"name\":\"OUTPUT0\","
                + "\"datatype\":\"INT32\",\"shape\":[1,16],\"parameters\":{\"binary_data_size\":64}},"
                + "{\"name\":\"OUTPUT1\",\"datatype\":\"INT32\",\"shape\":[1,2],\"data\":[-1,0]}]}";
        assertEquals("application/octet-stream", answer.contentType());
        assertEquals(String.valueOf(header.length()), answer.headers().first("Inference-Header-Content-Length"));
        assertEquals(header, text(answer.body(), 0, header.length()));
        assertArrayEquals(ints(1, 16), Arrays.copyOfRange(answer.body(), header.length(), answer.body().length));
    }

    @ParameterizedTest
    @EnumSource(DataType.class)
    void everyDataTypeRoundTripsThroughTheBinarySection(DataType type) throws Exception {
        Tensor sample = Tensors.sample(type);
        byte[] raw = type == DataType.BYTES ? lengthPrefixed("hello", "", "ünïcødé ✓") : bytes(sample.data());
        String header = "{\"parameters\":{\"binary_data_output\":true},\"inputs\":[{\"name\":\"" + sample.name()
                + "\",\"shape\":[1,3],\"datatype\":\"" + type + "\",\"parameters\":{\"binary_data_size\":"
                + raw.length + "}}]}";
        CodecExchange exchange = CodecExchange.call("kserve-v2", "m", null, "infer");

        InferenceRequest request = codec.decodeRequest(binary(header, raw), exchange, null);
        assertSameTensors(List.of(sample), request.inputs());

        Payload answer = codec.encodeResponse(new InferenceResponse("m", null, null, request.inputs(), Map.of()),
                exchange);
        int headerLength = Integer.parseInt(answer.headers().first("Inference-Header-Content-Length"));
        assertArrayEquals(raw, Arrays.copyOfRange(answer.body(), headerLength, answer.body().length));
        assertTrue(text(answer.body(), 0, headerLength).contains("{\"binary_data_size\":" + raw.length + "}"));
        assertSameTensors(List.of(sample), codec.decodeResponse(answer, request).outputs());
    }

    @Test
    void boolIsOneByteZeroOrOne() {
        Tensor flags = codec.decodeRequest(binary("{\"inputs\":[{\"name\":\"b\",\"shape\":[3],\"datatype\":\"BOOL\","
                + "\"parameters\":{\"binary_data_size\":3}}]}", new byte[] {1, 0, 1}), CodecExchange.call("kserve-v2", "m", null, "infer"), null)
                .input("b");

        assertEquals(List.of(true, false, true), List.of(flags.booleanAt(0), flags.booleanAt(1), flags.booleanAt(2)));
    }

    @Test
    void fp16IsTwoLittleEndianBytesOfHalfPrecision() {
        byte[] halves = littleEndian(4).putShort(Float.floatToFloat16(1.5f)).putShort(Float.floatToFloat16(-2f))
                .array();
        Tensor half = codec.decodeRequest(binary("{\"inputs\":[{\"name\":\"h\",\"shape\":[2],\"datatype\":\"FP16\","
                + "\"parameters\":{\"binary_data_size\":4}}]}", halves), CodecExchange.call("kserve-v2", "m", null, "infer"), null).input("h");

        assertEquals(1.5, half.doubleAt(0));
        assertEquals(-2.0, half.doubleAt(1));
    }

    @Test
    void binaryAndJsonInputsMixInInputOrder() {
        InferenceRequest request = codec.decodeRequest(binary("{\"inputs\":["
                + "{\"name\":\"s\",\"shape\":[2],\"datatype\":\"BYTES\",\"parameters\":{\"binary_data_size\":13}},"
                + "{\"name\":\"j\",\"shape\":[1],\"datatype\":\"INT8\",\"data\":[5]},"
                + "{\"name\":\"u\",\"shape\":[2],\"datatype\":\"UINT8\",\"parameters\":{\"binary_data_size\":2}}]}",
                lengthPrefixed("ab", "cde"), new byte[] {(byte) 200, 9}), CodecExchange.call("kserve-v2", "m", null, "infer"), null);

        assertEquals(ByteBuffer.wrap("cde".getBytes()), request.input("s").bytesAt(1));
        assertEquals(5, request.input("j").longAt(0));
        assertEquals(200, request.input("u").longAt(0));
    }

    @Test
    void bytesThatAreNotUtf8GoBackBinaryEvenUnasked() {
        Tensor blob = Tensor.ofBytes("blob", new long[] {1}, List.of(new byte[] {(byte) 0xFF, 0}));
        Tensor word = Tensor.ofBytes("word", new long[] {1}, List.of(Tensors.utf8("ok")));

        Payload answer = codec.encodeResponse(new InferenceResponse("m", null, null, List.of(word, blob), Map.of()),
                CodecExchange.call("kserve-v2", "m", null, "infer"));

        int headerLength = Integer.parseInt(answer.headers().first("Inference-Header-Content-Length"));
        assertTrue(text(answer.body(), 0, headerLength).contains("\"data\":[\"ok\"]"));
        assertArrayEquals(new byte[] {2, 0, 0, 0, (byte) 0xFF, 0},
                Arrays.copyOfRange(answer.body(), headerLength, answer.body().length));
    }

    @Test
    void aRawBinaryRequestIsTheSingleInputAsABatchOfOne() {
        CodecExchange exchange = CodecExchange.call("kserve-v2", "m", "3", "infer");
        InferenceRequest request = codec.decodeRequest(withHeaderLength(floats(1, 2, 3, 4), 0), exchange,
                Models.oneInput("x", DataType.FP32, -1, 4));

        assertEquals("3", request.version());
        assertArrayEquals(new long[] {1, 4}, request.input("x").shape());
        assertEquals(4.0, request.input("x").doubleAt(3));

        Payload answer = codec.encodeResponse(new InferenceResponse("m", "3", null,
                List.of(Tensor.ofFloats("y", new long[] {1}, 7)), Map.of()), exchange);
        assertTrue(answer.headers().contains("Inference-Header-Content-Length"), "every output goes back binary");
    }

    @Test
    void aRawBinaryRequestDerivesOneVariableDimension() {
        InferenceRequest request = codec.decodeRequest(withHeaderLength(lengthPrefixed("a", "b", "c"), 0),
                CodecExchange.call("kserve-v2", "m", null, "infer"), Models.oneInput("text", DataType.BYTES, -1, -1));

        assertArrayEquals(new long[] {1, 3}, request.input("text").shape());
    }

    @Test
    void aRawBinaryRequestNeedsAModelWithExactlyOneInputAndAShapeItCanTell() {
        Payload raw = withHeaderLength(floats(1, 2), 0);
        assertRejected(CoreErrors.INVALID_PREDICT_REQUEST, () -> codec.decodeRequest(raw, CodecExchange.call("kserve-v2", "m", null, "infer"),
                null));
        assertRejected(CoreErrors.INVALID_PREDICT_REQUEST, () -> codec.decodeRequest(raw, CodecExchange.call("kserve-v2", "m", null, "infer"),
                Models.twoInputs()));
        assertRejected(CoreErrors.INVALID_PREDICT_REQUEST, () -> codec.decodeRequest(raw, CodecExchange.call("kserve-v2", "m", null, "infer"),
                Models.oneInput("x", DataType.FP32, -1, -1, -1)));
        assertRejected(CoreErrors.TENSOR_SHAPE_MISMATCH, () -> codec.decodeRequest(raw, CodecExchange.call("kserve-v2", "m", null, "infer"),
                Models.oneInput("x", DataType.FP32, -1, 3)));
        assertRejected(CoreErrors.MALFORMED_BODY, () -> codec.decodeRequest(withHeaderLength(new byte[7], 0),
                CodecExchange.call("kserve-v2", "m", null, "infer"), Models.oneInput("x", DataType.FP32, -1, 2)));
    }

    @Test
    void binarySizesThatOverrunTheBodyAreMalformed() {
        assertRejected(CoreErrors.MALFORMED_BODY, () -> decode(binary(TRITONCLIENT_HEADER, ints(0, 16),
                ints(0, 15))));
    }

    @Test
    void binaryBytesLeftUnusedAreMalformed() {
        assertRejected(CoreErrors.MALFORMED_BODY, () -> decode(binary(TRITONCLIENT_HEADER, ints(0, 16),
                ints(0, 16), new byte[1])));
    }

    @Test
    void aBinaryDataSizeWithoutAnyBinarySectionIsMalformed() {
        assertRejected(CoreErrors.MALFORMED_BODY, () -> decode(Bodies.json(TRITONCLIENT_HEADER)));
    }

    @Test
    void aHeaderLengthBeyondTheBodyIsMalformed() {
        byte[] body = Bodies.json(TRITONCLIENT_HEADER).body();
        assertRejected(CoreErrors.MALFORMED_BODY, () -> decode(withHeaderLength(body, body.length + 1)));
        assertRejected(CoreErrors.MALFORMED_BODY, () -> decode(new Payload("application/octet-stream",
                new Headers().set("Inference-Header-Content-Length", "ten"), body)));
    }

    @Test
    void aBytesLengthPrefixPastItsTensorIsMalformed() {
        byte[] lying = littleEndian(6).putInt(5).put((byte) 'a').put((byte) 'b').array();
        assertRejected(CoreErrors.MALFORMED_BODY, () -> decode(binary("{\"inputs\":[{\"name\":\"s\",\"shape\":[1],"
                + "\"datatype\":\"BYTES\",\"parameters\":{\"binary_data_size\":6}}]}", lying)));
    }

    @Test
    void aBinarySizeThatDisagreesWithTheShapeIsATensorShapeMismatch() {
        assertRejected(CoreErrors.TENSOR_SHAPE_MISMATCH, () -> decode(binary("{\"inputs\":[{\"name\":\"x\","
                + "\"shape\":[2],\"datatype\":\"INT32\",\"parameters\":{\"binary_data_size\":12}}]}", ints(0, 3))));
    }

    @Test
    void dataAndABinarySizeTogetherAreAnInvalidRequest() {
        assertRejected(CoreErrors.INVALID_PREDICT_REQUEST, () -> decode(binary("{\"inputs\":[{\"name\":\"x\","
                + "\"shape\":[1],\"datatype\":\"INT32\",\"data\":[1],\"parameters\":{\"binary_data_size\":4}}]}",
                ints(0, 1))));
    }

    @Test
    void aTruncatedJsonHeaderIsMalformedJson() {
        byte[] body = binary(TRITONCLIENT_HEADER, ints(0, 16), ints(0, 16)).body();
        assertRejected(CoreErrors.MALFORMED_JSON, () -> decode(withHeaderLength(body, 40)));
    }

    @Test
    void theBinaryDataSizeIsConsumedNotPassedOn() {
        InferenceRequest request = decode(binary("{\"inputs\":[{\"name\":\"x\",\"shape\":[1],\"datatype\":\"INT32\","
                + "\"parameters\":{\"binary_data_size\":4}}]}", ints(0, 1)));

        Payload forwarded = codec.encodeRequest(request);
        assertFalse(forwarded.headers().contains("Inference-Header-Content-Length"));
        assertEquals("{\"inputs\":[{\"name\":\"x\",\"datatype\":\"INT32\",\"shape\":[1],\"data\":[0]}]}",
                text(forwarded.body(), 0, forwarded.body().length));
    }

    private InferenceRequest decode(Payload payload) {
        return codec.decodeRequest(payload, CodecExchange.call("kserve-v2", "m", null, "infer"), null);
    }

    /** {@code count} INT32 values from {@code first} up, little-endian. */
    private static byte[] ints(int first, int count) {
        ByteBuffer buffer = littleEndian(4 * count);
        for (int i = 0; i < count; i++) {
            buffer.putInt(first + i);
        }
        return buffer.array();
    }

    private static byte[] floats(float... values) {
        ByteBuffer buffer = littleEndian(4 * values.length);
        for (float value : values) {
            buffer.putFloat(value);
        }
        return buffer.array();
    }

    private static byte[] bytes(ByteBuffer data) {
        byte[] bytes = new byte[data.remaining()];
        data.get(bytes);
        return bytes;
    }
}
