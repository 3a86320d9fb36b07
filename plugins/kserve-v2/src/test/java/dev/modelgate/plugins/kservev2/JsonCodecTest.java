package dev.modelgate.plugins.kservev2;

import static dev.modelgate.plugins.kservev2.Bodies.assertRejected;
import static dev.modelgate.plugins.kservev2.Bodies.json;
import static dev.modelgate.plugins.kservev2.Tensors.assertSameTensor;
import static dev.modelgate.plugins.kservev2.Tensors.assertSameTensors;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.modelgate.spi.CoreErrors;
import dev.modelgate.spi.RejectionException;
import dev.modelgate.spi.inference.DataType;
import dev.modelgate.spi.inference.InferenceRequest;
import dev.modelgate.spi.inference.InferenceResponse;
import dev.modelgate.spi.inference.Payload;
import dev.modelgate.spi.inference.RequestedOutput;
import dev.modelgate.spi.inference.Tensor;
import dev.modelgate.spi.testing.CodecExchange;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

class JsonCodecTest {

    private final KServeV2Codec codec = KServeV2Codec.json();

    @Test
    void theSpecsCanonicalExampleDecodesAndItsAnswerEncodesVerbatim() {
        CodecExchange exchange = CodecExchange.call("kserve-v2", "mymodel", null, "infer");
        InferenceRequest request = codec.decodeRequest(json("""
                { "id": "42",
                  "inputs": [ {"name": "input0", "shape": [2, 2], "datatype": "UINT32", "data": [1, 2, 3, 4]},
                              {"name": "input1", "shape": [3],    "datatype": "BOOL",   "data": [true, false, true]} ],
                  "outputs": [ {"name": "output0"} ] }"""), exchange, null);

        assertEquals("mymodel", request.model());
        assertNull(request.version());
        assertEquals("42", request.id());
        assertEquals(List.of(new RequestedOutput("output0")), request.outputs());
        Tensor input0 = request.input("input0");
        assertEquals(DataType.UINT32, input0.type());
        assertArrayEquals(new long[] {2, 2}, input0.shape());
        assertEquals(List.of(1L, 2L, 3L, 4L), List.of(input0.longAt(0), input0.longAt(1), input0.longAt(2),
                input0.longAt(3)));
        Tensor input1 = request.input("input1");
        assertEquals(List.of(true, false, true), List.of(input1.booleanAt(0), input1.booleanAt(1),
                input1.booleanAt(2)));

        Tensor output0 = Tensor.ofFloats("output0", new long[] {3, 2}, 1.0f, 1.1f, 2.0f, 2.1f, 3.0f, 3.1f);
        Payload answer = codec.encodeResponse(new InferenceResponse("mymodel", null, "42", List.of(output0),
                Map.of()), exchange);

        assertEquals("application/json", answer.contentType());
        assertTrue(answer.headers().isEmpty());
        assertEquals("{\"model_name\":\"mymodel\",\"id\":\"42\",\"outputs\":[{\"name\":\"output0\",\"datatype\":"
                + "\"FP32\",\"shape\":[3,2],\"data\":[1.0,1.1,2.0,2.1,3.0,3.1]}]}", text(answer));
    }

    @Test
    void nestedAndFlatDataDecodeToTheSameRowMajorTensor() {
        InferenceRequest nested = decode("""
                {"inputs":[{"name":"x","shape":[2,3],"datatype":"INT64","data":[[1,2,3],[4,5,6]]}]}""");
        InferenceRequest flat = decode("""
                {"inputs":[{"name":"x","shape":[2,3],"datatype":"INT64","data":[1,2,3,4,5,6]}]}""");

        assertSameTensors(flat.inputs(), nested.inputs());
        assertEquals(6, nested.input("x").longAt(5));
    }

    @Test
    void dataBeforeNameAndDatatypeIsReadAllTheSame() {
        InferenceRequest request = decode("""
                {"inputs":[{"data":[[1.5],[2.5]],"shape":[2,1],"datatype":"FP64","name":"x"}]}""");

        assertSameTensor(Tensor.builder("x", DataType.FP64).addDouble(1.5).addDouble(2.5).build(new long[] {2, 1}),
                request.input("x"));
    }

    @ParameterizedTest
    @EnumSource(DataType.class)
    void everyDataTypeRoundTripsThroughJson(DataType type) throws Exception {
        Tensor sample = Tensors.sample(type);
        InferenceRequest request = new InferenceRequest("m", null, null, List.of(sample), List.of(), Map.of());

        Payload answer = codec.encodeResponse(new InferenceResponse("m", "1", null, List.of(sample), Map.of()),
                CodecExchange.call("kserve-v2", "m", null, "infer"));
        InferenceResponse decoded = codec.decodeResponse(answer, request);

        assertEquals("application/json", answer.contentType(), "JSON carries every type when no binary is asked");
        assertSameTensors(List.of(sample), decoded.outputs());
    }

    @Test
    void requestParametersKeepTheirTypesAndOrder() {
        InferenceRequest request = decode("""
                {"parameters":{"priority":1,"timeout":2.5,"tag":"x","sequence_start":true},
                 "inputs":[{"name":"x","shape":[1],"datatype":"INT8","parameters":{"content_type":"np"},"data":[1]}],
                 "outputs":[{"name":"y","parameters":{"top_k":3}}]}""");

        Map<String, Object> expected = new LinkedHashMap<>();
        expected.put("priority", 1L);
        expected.put("timeout", 2.5);
        expected.put("tag", "x");
        expected.put("sequence_start", true);
        assertEquals(expected, request.parameters());
        assertEquals(List.copyOf(expected.keySet()), List.copyOf(request.parameters().keySet()));
        assertEquals(List.of(new RequestedOutput("y", Map.of("top_k", 3L))), request.outputs());
    }

    @Test
    void theAnswerHoldsTheOutputsAskedForInTheirOrderWithVersionAndParameters() {
        CodecExchange exchange = CodecExchange.call("kserve-v2", "m", "2", "infer");
        codec.decodeRequest(json("""
                {"id":"a","inputs":[{"name":"x","shape":[1],"datatype":"FP32","data":[1]}],
                 "outputs":[{"name":"b"},{"name":"missing"},{"name":"a"}]}"""), exchange, null);
        Tensor a = Tensor.ofFloats("a", new long[] {1}, 1);
        Tensor b = Tensor.ofFloats("b", new long[] {1}, 2);
        Tensor c = Tensor.ofFloats("c", new long[] {1}, 3);

        Payload answer = codec.encodeResponse(new InferenceResponse("m", "2", null, List.of(a, b, c),
                Map.of("sequence_end", true)), exchange);

        assertEquals("{\"model_name\":\"m\",\"model_version\":\"2\",\"id\":\"a\",\"parameters\":{\"sequence_end\":true},"
                + "\"outputs\":[{\"name\":\"b\",\"datatype\":\"FP32\",\"shape\":[1],\"data\":[2.0]},"
                + "{\"name\":\"a\",\"datatype\":\"FP32\",\"shape\":[1],\"data\":[1.0]}]}", text(answer));
    }

    @Test
    void shapeAndDataThatDisagreeAreATensorShapeMismatch() {
        assertRejected(CoreErrors.TENSOR_SHAPE_MISMATCH, () -> decode("""
                {"inputs":[{"name":"x","shape":[2,2],"datatype":"FP32","data":[1,2,3]}]}"""));
    }

    @Test
    void anUnknownDatatypeIsRejectedWithTheKnownOnes() {
        RejectionException rejection = assertRejected(CoreErrors.UNKNOWN_DATA_TYPE, () -> decode("""
                {"inputs":[{"name":"x","shape":[1],"datatype":"FP8","data":[1]}]}"""));
        assertTrue(rejection.getMessage().contains("FP8"), rejection.getMessage());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "INT32 | \"seven\"", "UINT8 | 256", "UINT8 | -1", "INT8 | 1.5", "BOOL | 1", "BYTES | 3", "FP32 | null",
        "FP32 | {}", "INT64 | true"})
    void aValueTheDatatypeCannotHoldIsAnInvalidTensorValue(String type, String value) {
        assertRejected(CoreErrors.INVALID_TENSOR_VALUE, () -> decode(
                "{\"inputs\":[{\"name\":\"x\",\"shape\":[1],\"datatype\":\"" + type + "\",\"data\":[" + value + "]}]}"));
    }

    @Test
    void fp16TakesJsonNumbers() {
        Tensor x = decode("{\"inputs\":[{\"name\":\"x\",\"shape\":[2],\"datatype\":\"FP16\",\"data\":[0.5,-2]}]}")
                .input("x");

        assertEquals(0.5, x.doubleAt(0));
        assertEquals(-2.0, x.doubleAt(1));
    }

    @Test
    void truncatedJsonIsMalformedJson() {
        assertRejected(CoreErrors.MALFORMED_JSON, () -> decode("{\"inputs\":[{\"name\":\"x\",\"shape\":[1],"));
    }

    @Test
    void contentAfterTheRequestIsMalformedJson() {
        assertRejected(CoreErrors.MALFORMED_JSON, () -> decode(
                "{\"inputs\":[{\"name\":\"x\",\"shape\":[1],\"datatype\":\"INT8\",\"data\":[1]}]} {}"));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "name     | {\"shape\":[1],\"datatype\":\"INT8\",\"data\":[1]}",
        "shape    | {\"name\":\"y\",\"datatype\":\"INT8\",\"data\":[1]}",
        "datatype | {\"name\":\"y\",\"shape\":[1],\"data\":[1]}",
        "data     | {\"name\":\"y\",\"shape\":[1],\"datatype\":\"INT8\"}"})
    void aMissingFieldIsAnInvalidRequestNamingFieldAndInput(String field, String second) {
        RejectionException rejection = assertRejected(CoreErrors.INVALID_PREDICT_REQUEST, () -> decode(
                "{\"inputs\":[{\"name\":\"x\",\"shape\":[1],\"datatype\":\"INT8\",\"data\":[1]}," + second + "]}"));

        assertEquals("inputs[1]: missing '" + field + "'", rejection.getMessage());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "{\"outputs\":[]}",
        "{\"inputs\":{}}",
        "[]",
        "{\"inputs\":[],\"parameters\":{\"p\":[1]}}",
        "{\"inputs\":[],\"parameters\":{\"p\":null}}",
        "{\"inputs\":[],\"id\":42}",
        "{\"inputs\":[{\"name\":\"x\",\"shape\":[1.5],\"datatype\":\"INT8\",\"data\":[1]}]}",
        "{\"inputs\":[{\"name\":\"x\",\"shape\":[1],\"datatype\":\"INT8\",\"data\":1}]}",
        "{\"inputs\":[],\"outputs\":[{\"parameters\":{}}]}"})
    void aRequestOfAnotherShapeIsAnInvalidRequest(String body) {
        assertRejected(CoreErrors.INVALID_PREDICT_REQUEST, () -> decode(body));
    }

    @Test
    void aNegativeDimensionInARequestIsATensorShapeMismatch() {
        assertRejected(CoreErrors.TENSOR_SHAPE_MISMATCH, () -> decode(
                "{\"inputs\":[{\"name\":\"x\",\"shape\":[-1],\"datatype\":\"INT8\",\"data\":[1]}]}"));
    }

    @Test
    void nanAndInfinityTravelAsBareTokens() {
        Tensor x = decode("{\"inputs\":[{\"name\":\"x\",\"shape\":[2],\"datatype\":\"FP32\",\"data\":[NaN,-Infinity]}]}")
                .input("x");
        assertTrue(Double.isNaN(x.doubleAt(0)));

        Payload answer = codec.encodeResponse(new InferenceResponse("m", null, null, List.of(x), Map.of()),
                CodecExchange.call("kserve-v2", "m", null, "infer"));

        assertTrue(text(answer).contains("\"data\":[NaN,-Infinity]"), text(answer));
    }

    private InferenceRequest decode(String body) {
        return codec.decodeRequest(json(body), CodecExchange.call("kserve-v2", "m", null, "infer"), null);
    }

    private static String text(Payload payload) {
        return new String(payload.body(), StandardCharsets.UTF_8);
    }
}
