package dev.modelgate.plugins.tfserving;

import static dev.modelgate.plugins.tfserving.Fixtures.JSON;
import static dev.modelgate.plugins.tfserving.Fixtures.assertRejected;
import static dev.modelgate.plugins.tfserving.Fixtures.decode;
import static dev.modelgate.plugins.tfserving.Fixtures.floatInputs;
import static dev.modelgate.plugins.tfserving.Fixtures.json;
import static dev.modelgate.plugins.tfserving.Fixtures.text;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.modelgate.spi.CoreErrors;
import dev.modelgate.spi.Exchange;
import dev.modelgate.spi.inference.DataType;
import dev.modelgate.spi.inference.InferenceResponse;
import dev.modelgate.spi.inference.Payload;
import dev.modelgate.spi.inference.Tensor;
import dev.modelgate.spi.testing.CodecExchange;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class AnswerEncodingTest {

    private static String answer(String request, String verb, Tensor... outputs) {
        Exchange exchange = CodecExchange.call(TfServingCodec.DIALECT, "m", null, verb);
        JSON.decodeRequest(json(request), exchange, null);
        Payload payload = JSON.encodeResponse(new InferenceResponse("m", null, null, List.of(outputs), Map.of()),
                exchange);
        assertEquals("application/json", payload.contentType());
        return text(payload);
    }

    private static String predict(String request, Tensor... outputs) {
        return answer(request, "predict", outputs);
    }

    private static Tensor strings(String name, String... values) {
        return Tensor.ofBytes(name, new long[] {values.length},
                Arrays.stream(values).map(v -> v.getBytes(StandardCharsets.UTF_8)).toList());
    }

    @Test
    void halfPlusThreeAnswersPredictionsWithoutTheOutputsName() {
        Exchange exchange = CodecExchange.call(TfServingCodec.DIALECT, "m", null, "predict");
        JSON.decodeRequest(json("{\"instances\": [1.0, 2.0, 5.0]}"), exchange, floatInputs("x"));
        Tensor y = Tensor.ofFloats("y", new long[] {3}, 3.5f, 4.0f, 5.5f);
        assertEquals("{\"predictions\":[3.5,4.0,5.5]}",
                text(JSON.encodeResponse(new InferenceResponse("m", null, null, List.of(y), Map.of()), exchange)));
    }

    @Test
    void rowAnswerWithOneOutputHasOneEntryPerRow() {
        Tensor y = Tensor.ofFloats("y", new long[] {2, 2}, 1, 2, 3, 4);
        assertEquals("{\"predictions\":[[1.0,2.0],[3.0,4.0]]}", predict("{\"instances\": [[1], [2]]}", y));
    }

    @Test
    void rowAnswerWithSeveralOutputsHasAnObjectPerRow() {
        Tensor a = Tensor.ofFloats("a", new long[] {2}, 1, 2);
        assertEquals("{\"predictions\":[{\"a\":1.0,\"tag\":\"x\"},{\"a\":2.0,\"tag\":\"y\"}]}",
                predict("{\"instances\": [1, 2]}", a, strings("tag", "x", "y")));
    }

    @Test
    void rowAnswerRefusesOutputsOfDifferentBatchSizes() {
        Tensor a = Tensor.ofFloats("a", new long[] {2}, 1, 2);
        Tensor b = Tensor.ofFloats("b", new long[] {3}, 1, 2, 3);
        assertRejected(CoreErrors.INPUT_MISMATCH, () -> predict("{\"instances\": [1, 2]}", a, b));
    }

    @Test
    void columnarAnswerWithOneOutputIsItsValue() {
        Tensor y = Tensor.ofFloats("y", new long[] {2, 1}, 1, 2);
        assertEquals("{\"outputs\":[[1.0],[2.0]]}", predict("{\"inputs\": [[1], [2]]}", y));
    }

    @Test
    void columnarAnswerWithSeveralOutputsIsAnObjectByName() {
        Tensor a = Tensor.ofFloats("a", new long[] {1}, 1);
        Tensor b = Tensor.ofFloats("b", new long[] {}, 2);
        assertEquals("{\"outputs\":{\"a\":[1.0],\"b\":2.0}}", predict("{\"inputs\": [1]}", a, b));
    }

    @Test
    void onlyOutputsNamedBytesAreWrittenAsBase64() {
        assertEquals("{\"outputs\":{\"image_bytes\":[{\"b64\":\"aW1hZ2U=\"}],\"caption\":[\"seaside\"]}}",
                predict("{\"inputs\": [1]}", strings("image_bytes", "image"), strings("caption", "seaside")));
    }

    @Test
    void base64InputComesBackAsBase64FromABytesOutput() {
        Exchange exchange = CodecExchange.call(TfServingCodec.DIALECT, "m", null, "predict");
        Tensor input = JSON.decodeRequest(json("{\"instances\": [{\"b64\": \"aW1hZ2U=\"}]}"), exchange, null)
                .inputs().getFirst();
        Payload payload = JSON.encodeResponse(new InferenceResponse("m", null, null,
                List.of(input.withName("echo_bytes")), Map.of()), exchange);
        assertEquals("{\"predictions\":[{\"b64\":\"aW1hZ2U=\"}]}", text(payload));
    }

    @Test
    void nonFiniteFloatsAreWrittenAsBareTokens() {
        Tensor y = Tensor.ofFloats("y", new long[] {3}, Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY);
        assertEquals("{\"outputs\":[NaN,Infinity,-Infinity]}", predict("{\"inputs\": [1]}", y));
    }

    @Test
    void integerBoolHalfAndUnsignedOutputsKeepTheirValues() {
        ByteBuffer half = ByteBuffer.allocate(2).order(ByteOrder.LITTLE_ENDIAN)
                .putShort(Float.floatToFloat16(1.5f)).flip();
        ByteBuffer big = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(-1L).flip();
        ByteBuffer bool = ByteBuffer.wrap(new byte[] {1});
        assertEquals("{\"outputs\":{\"h\":1.5,\"u\":18446744073709551615,\"b\":true}}", predict("{\"inputs\": [1]}",
                Tensor.of("h", DataType.FP16, new long[] {}, half),
                Tensor.of("u", DataType.UINT64, new long[] {}, big),
                Tensor.of("b", DataType.BOOL, new long[] {}, bool)));
    }

    @Test
    void rowAndColumnarRequestsRoundTripThroughAnEchoModel() {
        for (String body : List.of("{\"instances\": [[1.5, 2.0], [3.0, 4.0]]}", "{\"inputs\": [[1.5, 2.0], [3.0, 4.0]]}")) {
            Exchange exchange = CodecExchange.call(TfServingCodec.DIALECT, "m", null, "predict");
            List<Tensor> inputs = JSON.decodeRequest(json(body), exchange, null).inputs();
            String answer = text(JSON.encodeResponse(new InferenceResponse("m", null, null,
                    List.of(inputs.getFirst().withName("y")), Map.of()), exchange));
            String key = body.contains("instances") ? "predictions" : "outputs";
            assertEquals("{\"" + key + "\":[[1.5,2.0],[3.0,4.0]]}", answer);
        }
    }

    @Test
    void regressExampleAnswersResultsOnePerExample() {
        String request = "{\"signature_name\":\"tensorflow/serving/regress\",\"examples\":[{\"x\":1.0},{\"x\":2.0}]}";
        Exchange exchange = CodecExchange.call(TfServingCodec.DIALECT, "m", null, "regress");
        Tensor x = JSON.decodeRequest(json(request), exchange, null).input("x");
        assertEquals(List.of(1.0, 2.0), Fixtures.numbers(x));
        Tensor y = Tensor.ofFloats("outputs", new long[] {2, 1}, 3.5f, 4.0f);
        assertEquals("{\"results\":[3.5,4.0]}",
                text(JSON.encodeResponse(new InferenceResponse("m", null, null, List.of(y), Map.of()), exchange)));
    }

    @Test
    void classifyAnswersLabelScorePairsPerExample() {
        Tensor classes = Tensor.ofBytes("classes", new long[] {2, 2}, List.of("a".getBytes(StandardCharsets.UTF_8),
                "b".getBytes(StandardCharsets.UTF_8), "a".getBytes(StandardCharsets.UTF_8),
                "b".getBytes(StandardCharsets.UTF_8)));
        Tensor scores = Tensor.ofFloats("scores", new long[] {2, 2}, 0.75f, 0.25f, 0.5f, 0.5f);
        assertEquals("{\"results\":[[[\"a\",0.75],[\"b\",0.25]],[[\"a\",0.5],[\"b\",0.5]]]}",
                answer("{\"examples\": [{\"x\": 1}, {\"x\": 2}]}", "classify", classes, scores));
    }

    @Test
    void classifyWithScoresAloneGivesEmptyLabels() {
        Tensor scores = Tensor.ofFloats("scores", new long[] {1, 2}, 0.75f, 0.25f);
        assertEquals("{\"results\":[[[\"\",0.75],[\"\",0.25]]]}",
                answer("{\"examples\": [{\"x\": 1}]}", "classify", scores));
    }

    @Test
    void classifyWithoutClassesOrScoresIsASignatureMismatch() {
        assertRejected(CoreErrors.INPUT_MISMATCH, () -> answer("{\"examples\": [{\"x\": 1}]}", "classify",
                Tensor.ofFloats("y", new long[] {1}, 1)));
    }

    @Test
    void contextFeaturesRepeatForEveryExample() {
        var request = decode("{\"context\": {\"lang\": \"en\", \"w\": [1, 2]}, \"examples\": [{\"x\": 1.5}, {\"x\": 2}]}",
                CodecExchange.call(TfServingCodec.DIALECT, "m", null, "classify"), null);
        Fixtures.assertTensor(request.input("x"), "x", DataType.FP32, 2);
        Fixtures.assertTensor(request.input("lang"), "lang", DataType.BYTES, 2);
        assertEquals(List.of("en", "en"), Fixtures.strings(request.input("lang")));
        Fixtures.assertTensor(request.input("w"), "w", DataType.INT64, 2, 2);
        assertEquals(List.of(1.0, 2.0, 1.0, 2.0), Fixtures.numbers(request.input("w")));
        assertEquals(Map.of(), request.parameters());
    }

    @Test
    void aFeatureInBothContextAndExamplesIsRejected() {
        assertRejected(CoreErrors.INVALID_PREDICT_REQUEST, () -> decode(
                "{\"context\": {\"x\": 1}, \"examples\": [{\"x\": 2}]}", CodecExchange.call(TfServingCodec.DIALECT, "m", null, "regress"), null));
        assertRejected(CoreErrors.INVALID_PREDICT_REQUEST, () -> decode(
                "{\"context\": {\"x\": 1}}", CodecExchange.call(TfServingCodec.DIALECT, "m", null, "regress"), null));
        assertRejected(CoreErrors.INVALID_PREDICT_REQUEST, () -> decode(
                "{\"examples\": [1]}", CodecExchange.call(TfServingCodec.DIALECT, "m", null, "regress"), null));
    }

    @Test
    void binaryFeaturesOfTheClassifyExampleAreBytes() {
        var request = decode("{\"signature_name\":\"classify_objects\",\"examples\":[{\"image\":{\"b64\":"
                + "\"aW1hZ2UgYnl0ZXM=\"},\"caption\":\"seaside\"}]}", CodecExchange.call(TfServingCodec.DIALECT, "m", null, "classify"), null);
        assertEquals(List.of("image bytes"), Fixtures.strings(request.input("image")));
        assertEquals(List.of("seaside"), Fixtures.strings(request.input("caption")));
    }
}
