package dev.modelgate.plugins.tfserving;

import static dev.modelgate.plugins.tfserving.Fixtures.assertRejected;
import static dev.modelgate.plugins.tfserving.Fixtures.assertTensor;
import static dev.modelgate.plugins.tfserving.Fixtures.decode;
import static dev.modelgate.plugins.tfserving.Fixtures.floatInputs;
import static dev.modelgate.plugins.tfserving.Fixtures.numbers;
import static dev.modelgate.plugins.tfserving.Fixtures.strings;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.modelgate.spi.CoreErrors;
import dev.modelgate.spi.RejectionException;
import dev.modelgate.spi.inference.DataType;
import dev.modelgate.spi.inference.InferenceRequest;
import dev.modelgate.spi.inference.Tensor;
import dev.modelgate.spi.testing.CodecExchange;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PredictRequestDecodingTest {

    @Test
    void rowOfStringsBecomesOneUnnamedBytesTensor() {
        InferenceRequest request = decode("{\"instances\": [\"foo\", \"bar\", \"baz\"]}");
        assertEquals(1, request.inputs().size());
        Tensor input = request.inputs().getFirst();
        assertTensor(input, "", DataType.BYTES, 3);
        assertEquals(List.of("foo", "bar", "baz"), strings(input));
    }

    @Test
    void rowsOfNestedListsStackUnderTheBatchDimension() {
        Tensor input = decode("{\"instances\": [[[1, 2]], [[3, 4]]]}").inputs().getFirst();
        assertTensor(input, "", DataType.INT64, 2, 1, 2);
        assertEquals(List.of(1.0, 2.0, 3.0, 4.0), numbers(input));
    }

    @Test
    void namedRowsStackEachInputOnItsOwn() {
        InferenceRequest request = decode("""
                {"instances": [{"tag": "foo", "signal": [1,2,3,4,5], "sensor": [[1,2],[3,4]]},
                               {"tag": "bar", "signal": [3,4,1,2,5], "sensor": [[4,5],[6,8]]}]}""");
        assertTensor(request.input("tag"), "tag", DataType.BYTES, 2);
        assertEquals(List.of("foo", "bar"), strings(request.input("tag")));
        assertTensor(request.input("signal"), "signal", DataType.INT64, 2, 5);
        assertEquals(List.of(1.0, 2.0, 3.0, 4.0, 5.0, 3.0, 4.0, 1.0, 2.0, 5.0), numbers(request.input("signal")));
        assertTensor(request.input("sensor"), "sensor", DataType.INT64, 2, 2, 2);
        assertEquals(List.of(1.0, 2.0, 3.0, 4.0, 4.0, 5.0, 6.0, 8.0), numbers(request.input("sensor")));
    }

    @Test
    void columnarInputsGiveTheSameTensorsAsTheRowsTheyTranspose() {
        InferenceRequest rows = decode("""
                {"instances": [{"tag": "foo", "signal": [1,2,3,4,5], "sensor": [[1,2],[3,4]]},
                               {"tag": "bar", "signal": [3,4,1,2,5], "sensor": [[4,5],[6,8]]}]}""");
        InferenceRequest columns = decode("""
                {"inputs": {"tag": ["foo","bar"], "signal": [[1,2,3,4,5],[3,4,1,2,5]],
                            "sensor": [[[1,2],[3,4]],[[4,5],[6,8]]]}}""");
        for (Tensor row : rows.inputs()) {
            Tensor column = columns.input(row.name());
            assertTensor(column, row.name(), row.type(), row.shape());
            if (row.type() == DataType.BYTES) {
                assertEquals(strings(row), strings(column));
            } else {
                assertEquals(numbers(row), numbers(column));
            }
        }
    }

    @Test
    void halfPlusThreeRowsAreFloatsNamedAfterTheSoleInput() {
        InferenceRequest request = decode("{\"instances\": [1.0, 2.0, 5.0]}", CodecExchange.call(TfServingCodec.DIALECT, "m", null, "predict"),
                floatInputs("x"));
        Tensor input = request.inputs().getFirst();
        assertTensor(input, "x", DataType.FP32, 3);
        assertEquals(List.of(1.0, 2.0, 5.0), numbers(input));
    }

    @Test
    void metadataGivesIntegersInTheInputsDeclaredType() {
        Tensor input = decode("{\"inputs\": [[1, 2]]}", CodecExchange.call(TfServingCodec.DIALECT, "m", null, "predict"), floatInputs("x")).inputs().getFirst();
        assertTensor(input, "x", DataType.FP32, 1, 2);
    }

    @Test
    void mixedIntegersAndFractionsWithoutMetadataAreFloats() {
        Tensor input = decode("{\"inputs\": [1, 2.5, 3]}").inputs().getFirst();
        assertTensor(input, "", DataType.FP32, 3);
        assertEquals(List.of(1.0, 2.5, 3.0), numbers(input));
    }

    @Test
    void booleansWithoutMetadataAreBool() {
        Tensor input = decode("{\"inputs\": [[true], [false]]}").inputs().getFirst();
        assertTensor(input, "", DataType.BOOL, 2, 1);
        assertTrue(input.booleanAt(0));
    }

    @Test
    void modelVersionAndSignatureNameTravelWithTheRequest() {
        InferenceRequest request = decode("{\"signature_name\": \"serving_default\", \"inputs\": 7}",
                CodecExchange.call(TfServingCodec.DIALECT, "half", "3", "predict"), null);
        assertEquals("half", request.model());
        assertEquals("3", request.version());
        assertEquals(Map.of("signature_name", "serving_default"), request.parameters());
        assertTensor(request.inputs().getFirst(), "", DataType.INT64);
    }

    @Test
    void base64ObjectIsABinaryValueNotANamedInput() {
        InferenceRequest request = decode("{\"instances\": [{\"b64\": \"aW1hZ2U=\"}, {\"b64\": \"Ynl0ZXM\"}]}");
        Tensor input = request.inputs().getFirst();
        assertTensor(input, "", DataType.BYTES, 2);
        assertEquals(List.of("image", "bytes"), strings(input));
    }

    @Test
    void anObjectWithB64AndMoreKeysNamesInputs() {
        InferenceRequest request = decode("{\"inputs\": {\"b64\": \"text\", \"n\": [1]}}");
        assertEquals(List.of("text"), strings(request.input("b64")));
        assertTensor(request.input("n"), "n", DataType.INT64, 1);
    }

    @Test
    void nanAndInfinityTokensAreNumbers() {
        Tensor input = decode("{\"inputs\": [NaN, Infinity, -Infinity, 1e3]}").inputs().getFirst();
        assertTensor(input, "", DataType.FP32, 4);
        List<Double> values = numbers(input);
        assertTrue(Double.isNaN(values.get(0)));
        assertEquals(List.of(Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, 1000.0), values.subList(1, 4));
    }

    @Test
    void emptyListsGiveAZeroDimension() {
        assertTensor(decode("{\"inputs\": [[], []]}").inputs().getFirst(), "", DataType.FP32, 2, 0);
    }

    @Test
    void unknownTopLevelKeysAreIgnored() {
        assertEquals(1, decode("{\"extra\": {\"a\": [1]}, \"inputs\": [1]}").inputs().size());
    }

    @Test
    void bothInstancesAndInputsIsRejectedWithTfServingsMessage() {
        RejectionException e = assertThrows(RejectionException.class,
                () -> decode("{\"instances\": [1], \"inputs\": [1]}"));
        assertEquals(CoreErrors.INVALID_PREDICT_REQUEST, e.errorCode());
        assertEquals("expecting only one of 'inputs' or 'instances' keys to exist", e.getMessage());
    }

    @Test
    void neitherInstancesNorInputsIsRejectedWithTfServingsMessage() {
        RejectionException e = assertThrows(RejectionException.class,
                () -> decode("{\"signature_name\": \"x\"}"));
        assertEquals(CoreErrors.INVALID_PREDICT_REQUEST, e.errorCode());
        assertEquals("Missing 'inputs' or 'instances' key", e.getMessage());
    }

    @Test
    void structuralFaultsAreInvalidPredictRequests() {
        assertRejected(CoreErrors.INVALID_PREDICT_REQUEST, () -> decode("[1, 2]"));
        assertRejected(CoreErrors.INVALID_PREDICT_REQUEST, () -> decode("{\"signature_name\": 3, \"inputs\": 1}"));
        assertRejected(CoreErrors.INVALID_PREDICT_REQUEST, () -> decode("{\"instances\": []}"));
        assertRejected(CoreErrors.INVALID_PREDICT_REQUEST, () -> decode("{\"instances\": 5}"));
    }

    @Test
    void instancesMixingObjectsAndValuesAreRejected() {
        assertRejected(CoreErrors.INVALID_PREDICT_REQUEST, () -> decode("{\"instances\": [{\"a\": 1}, [1]]}"));
        assertRejected(CoreErrors.INVALID_PREDICT_REQUEST, () -> decode("{\"instances\": [1, {\"a\": 1}]}"));
    }

    @Test
    void raggedRowsAreShapeMismatchesNamingTheRow() {
        RejectionException e = assertThrows(RejectionException.class,
                () -> decode("{\"instances\": [[1, 2], [3]]}"));
        assertEquals(CoreErrors.TENSOR_SHAPE_MISMATCH, e.errorCode());
        assertTrue(e.getMessage().contains("instance 1"), e.getMessage());
    }

    @Test
    void raggedNestingIsAShapeMismatch() {
        assertRejected(CoreErrors.TENSOR_SHAPE_MISMATCH, () -> decode("{\"inputs\": [[1, 2], [3]]}"));
        assertRejected(CoreErrors.TENSOR_SHAPE_MISMATCH, () -> decode("{\"inputs\": [[1, 2], 3]}"));
        assertRejected(CoreErrors.TENSOR_SHAPE_MISMATCH, () -> decode("{\"inputs\": [1, [2]]}"));
    }

    @Test
    void rowKeysMustEqualTheModelsInputs() {
        assertRejected(CoreErrors.INPUT_MISMATCH, () -> decode("{\"instances\": [{\"a\": 1.0}]}",
                CodecExchange.call(TfServingCodec.DIALECT, "m", null, "predict"), floatInputs("a", "b")));
        assertRejected(CoreErrors.INPUT_MISMATCH, () -> decode("{\"instances\": [{\"a\": 1.0, \"c\": 2.0}]}",
                CodecExchange.call(TfServingCodec.DIALECT, "m", null, "predict"), floatInputs("a")));
        assertRejected(CoreErrors.INPUT_MISMATCH, () -> decode("{\"inputs\": {\"a\": [1.0]}}",
                CodecExchange.call(TfServingCodec.DIALECT, "m", null, "predict"), floatInputs("a", "b")));
    }

    @Test
    void laterRowsMustNameWhatTheFirstNamed() {
        assertRejected(CoreErrors.INPUT_MISMATCH, () -> decode("{\"instances\": [{\"a\": 1}, {\"b\": 1}]}"));
        assertRejected(CoreErrors.INPUT_MISMATCH, () -> decode("{\"instances\": [{\"a\": 1, \"b\": 2}, {\"a\": 1}]}"));
    }

    @Test
    void unnamedValuesNeedAModelWithOneInput() {
        assertRejected(CoreErrors.INPUT_MISMATCH, () -> decode("{\"instances\": [1.0]}", CodecExchange.call(TfServingCodec.DIALECT, "m", null, "predict"),
                floatInputs("a", "b")));
        assertRejected(CoreErrors.INPUT_MISMATCH, () -> decode("{\"inputs\": [1.0]}", CodecExchange.call(TfServingCodec.DIALECT, "m", null, "predict"),
                floatInputs("a", "b")));
    }

    @Test
    void badBase64IsAnInvalidTensorValue() {
        assertRejected(CoreErrors.INVALID_TENSOR_VALUE, () -> decode("{\"instances\": [{\"b64\": \"%%%\"}]}"));
        assertRejected(CoreErrors.INVALID_TENSOR_VALUE, () -> decode("{\"inputs\": [{\"b64\": \"a b\"}]}"));
    }

    @Test
    void aStringForAFloatInputIsAnInvalidTensorValue() {
        assertRejected(CoreErrors.INVALID_TENSOR_VALUE, () -> decode("{\"instances\": [\"1.0\"]}",
                CodecExchange.call(TfServingCodec.DIALECT, "m", null, "predict"), floatInputs("x")));
    }

    @Test
    void nullsAndMixedKindsAreInvalidTensorValues() {
        assertRejected(CoreErrors.INVALID_TENSOR_VALUE, () -> decode("{\"inputs\": [1, null]}"));
        assertRejected(CoreErrors.INVALID_TENSOR_VALUE, () -> decode("{\"inputs\": [1, \"a\"]}"));
        assertRejected(CoreErrors.INVALID_TENSOR_VALUE, () -> decode("{\"inputs\": [true, 1]}"));
        assertRejected(CoreErrors.INVALID_TENSOR_VALUE, () -> decode("{\"inputs\": [[{\"x\": 1}]]}"));
    }

    @Test
    void truncatedJsonIsMalformedWithItsPosition() {
        RejectionException e = assertThrows(RejectionException.class,
                () -> decode("{\"instances\": [[1, 2], [3,"));
        assertEquals(CoreErrors.MALFORMED_JSON, e.errorCode());
        assertTrue(e.getMessage().contains("line 1, column"), e.getMessage());
    }

    @Test
    void trailingContentAfterTheObjectIsMalformed() {
        assertRejected(CoreErrors.MALFORMED_JSON, () -> decode("{\"inputs\": [1]} xx"));
        assertRejected(CoreErrors.MALFORMED_JSON, () -> decode("{\"inputs\": [1]} {}"));
        assertRejected(CoreErrors.MALFORMED_JSON, () -> decode(""));
    }
}
