package dev.modelgate.plugins.kservev2.protobuf;

import static dev.modelgate.plugins.kservev2.protobuf.Fixtures.CODEC;
import static dev.modelgate.plugins.kservev2.protobuf.Fixtures.assertRejected;
import static dev.modelgate.plugins.kservev2.protobuf.Fixtures.exchange;
import static dev.modelgate.plugins.kservev2.protobuf.Fixtures.rawFloats;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.google.protobuf.ByteString;
import dev.modelgate.plugins.kservev2.protobuf.inference.InferParameter;
import dev.modelgate.plugins.kservev2.protobuf.inference.InferTensorContents;
import dev.modelgate.plugins.kservev2.protobuf.inference.ModelInferRequest;
import dev.modelgate.plugins.kservev2.protobuf.inference.ModelInferRequest.InferInputTensor;
import dev.modelgate.plugins.kservev2.protobuf.inference.ModelInferResponse;
import dev.modelgate.plugins.kservev2.protobuf.inference.ModelMetadataResponse;
import dev.modelgate.spi.BackendException;
import dev.modelgate.spi.CoreErrors;
import dev.modelgate.spi.inference.InferenceRequest;
import dev.modelgate.spi.inference.Payload;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Every way a message can be wrong, and the code each one is answered with. */
class DecodeErrorsTest {

    private static InferInputTensor.Builder input(String name, String datatype, long... shape) {
        InferInputTensor.Builder input = InferInputTensor.newBuilder().setName(name).setDatatype(datatype);
        Arrays.stream(shape).forEach(input::addShape);
        return input;
    }

    private static InferenceRequest decode(ModelInferRequest.Builder message) {
        return decode(message.build().toByteArray());
    }

    private static InferenceRequest decode(byte[] body) {
        return CODEC.decodeRequest(new Payload("application/x-protobuf", body), exchange("m", null), null);
    }

    @Test
    void aTruncatedMessageIsAMalformedBody() {
        byte[] body = ModelInferRequest.newBuilder().setModelName("m").addInputs(input("x", "FP32", 2))
                .addRawInputContents(rawFloats(1, 2)).build().toByteArray();

        assertRejected(CoreErrors.MALFORMED_BODY, () -> decode(Arrays.copyOf(body, body.length - 3)));
    }

    @Test
    void rawContentsBesideTypedContentsAreRefused() {
        assertRejected(CoreErrors.INVALID_PREDICT_REQUEST, () -> decode(ModelInferRequest.newBuilder()
                .addInputs(input("x", "FP32", 2))
                .addInputs(input("y", "FP32", 1).setContents(InferTensorContents.newBuilder().addFp32Contents(1)))
                .addRawInputContents(rawFloats(1, 2))
                .addRawInputContents(rawFloats(1))));
    }

    @Test
    void typedContentsWithAnotherNumberOfElementsThanTheShapeAreAShapeMismatch() {
        assertRejected(CoreErrors.TENSOR_SHAPE_MISMATCH, () -> decode(ModelInferRequest.newBuilder()
                .addInputs(input("x", "INT32", 2, 2).setContents(InferTensorContents.newBuilder()
                        .addIntContents(1).addIntContents(2).addIntContents(3)))));
    }

    @Test
    void anUnknownDataTypeIsNamed() {
        assertRejected(CoreErrors.UNKNOWN_DATA_TYPE, () -> decode(ModelInferRequest.newBuilder()
                .addInputs(input("x", "FP8", 1).setContents(InferTensorContents.newBuilder().addFp32Contents(1)))));
    }

    @Test
    void contentsInAnotherFieldThanTheDataTypesAreInvalid() {
        assertRejected(CoreErrors.INVALID_TENSOR_VALUE, () -> decode(ModelInferRequest.newBuilder()
                .addInputs(input("x", "UINT8", 1).setContents(InferTensorContents.newBuilder().addIntContents(1)))));
    }

    @Test
    void fp16InTypedContentsIsInvalid() {
        assertRejected(CoreErrors.INVALID_TENSOR_VALUE, () -> decode(ModelInferRequest.newBuilder()
                .addInputs(input("x", "FP16", 1).setContents(InferTensorContents.newBuilder().addFp32Contents(1)))));
    }

    @Test
    void aValueOutOfTheDataTypesRangeIsInvalid() {
        assertRejected(CoreErrors.INVALID_TENSOR_VALUE, () -> decode(ModelInferRequest.newBuilder()
                .addInputs(input("x", "UINT8", 1).setContents(InferTensorContents.newBuilder().addUintContents(300)))));
    }

    @Test
    void aRawEntryOfTheWrongSizeIsAShapeMismatch() {
        assertRejected(CoreErrors.TENSOR_SHAPE_MISMATCH, () -> decode(ModelInferRequest.newBuilder()
                .addInputs(input("x", "FP32", 3)).addRawInputContents(rawFloats(1, 2))));
    }

    @Test
    void missingRawEntriesAreRefused() {
        assertRejected(CoreErrors.INVALID_PREDICT_REQUEST, () -> decode(ModelInferRequest.newBuilder()
                .addInputs(input("x", "FP32", 2)).addInputs(input("y", "FP32", 2))
                .addRawInputContents(rawFloats(1, 2))));
    }

    @Test
    void rawBytesWhoseLengthRunsPastTheEntryAreInvalid() {
        assertRejected(CoreErrors.INVALID_TENSOR_VALUE, () -> decode(ModelInferRequest.newBuilder()
                .addInputs(input("x", "BYTES", 1))
                .addRawInputContents(ByteString.copyFrom(new byte[] {5, 0, 0, 0, 'a', 'b'}))));
    }

    @Test
    void aModelNameOtherThanThePathsIsRefused() {
        assertRejected(CoreErrors.INVALID_PREDICT_REQUEST, () -> decode(ModelInferRequest.newBuilder()
                .setModelName("other")));
    }

    @Test
    void aModelVersionOtherThanThePathsIsRefused() {
        byte[] body = ModelInferRequest.newBuilder().setModelName("m").setModelVersion("2").build().toByteArray();

        assertRejected(CoreErrors.INVALID_PREDICT_REQUEST, () -> CODEC.decodeRequest(
                new Payload("application/x-protobuf", body), exchange("m", "1"), null));
    }

    @Test
    void aParameterWithoutAValueIsRefused() {
        assertRejected(CoreErrors.INVALID_PREDICT_REQUEST, () -> decode(ModelInferRequest.newBuilder()
                .putParameters("empty", InferParameter.getDefaultInstance())));
    }

    @Test
    void aBackendsInvalidAnswerIsAProtocolFailure() {
        InferenceRequest request = new InferenceRequest("m", null, null, List.of(), List.of(), Map.of());
        byte[] mismatched = ModelInferResponse.newBuilder()
                .addOutputs(ModelInferResponse.InferOutputTensor.newBuilder().setName("y").setDatatype("FP32")
                        .addShape(4))
                .addRawOutputContents(rawFloats(1))
                .build().toByteArray();

        for (byte[] body : List.of(new byte[] {0x0A, 0x05, 'm'}, mismatched)) {
            BackendException failure = assertThrows(BackendException.class,
                    () -> CODEC.decodeResponse(new Payload("application/x-protobuf", body), request));
            assertEquals(BackendException.Kind.PROTOCOL, failure.kind());
        }
    }

    @Test
    void invalidMetadataIsAProtocolFailure() {
        byte[] unknownType = ModelMetadataResponse.newBuilder().setName("m")
                .addInputs(ModelMetadataResponse.TensorMetadata.newBuilder().setName("x").setDatatype("FP8"))
                .build().toByteArray();

        for (byte[] body : List.of(new byte[] {0x0A, 0x05, 'm'}, unknownType)) {
            BackendException failure = assertThrows(BackendException.class,
                    () -> CODEC.decodeMetadata(new Payload("application/x-protobuf", body), "m"));
            assertEquals(BackendException.Kind.PROTOCOL, failure.kind());
        }
    }
}
