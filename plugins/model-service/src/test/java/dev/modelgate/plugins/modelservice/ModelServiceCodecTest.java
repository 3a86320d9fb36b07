package dev.modelgate.plugins.modelservice;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.modelgate.plugins.modelservice.api.Error;
import dev.modelgate.plugins.modelservice.api.PredictRequest;
import dev.modelgate.plugins.modelservice.api.PredictResponse;
import dev.modelgate.spi.BackendException;
import dev.modelgate.spi.CoreErrors;
import dev.modelgate.spi.ErrorCode;
import dev.modelgate.spi.RejectionException;
import dev.modelgate.spi.inference.CodecProvider;
import dev.modelgate.spi.inference.DataType;
import dev.modelgate.spi.inference.InferenceCodec;
import dev.modelgate.spi.inference.InferenceRequest;
import dev.modelgate.spi.inference.InferenceResponse;
import dev.modelgate.spi.inference.ModelMetadata;
import dev.modelgate.spi.inference.Payload;
import dev.modelgate.spi.inference.Tensor;
import dev.modelgate.spi.inference.TensorMetadata;
import dev.modelgate.spi.testing.CodecExchange;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** The ModelService codec both ways: a front's Predict and a backend's. */
class ModelServiceCodecTest {

    private static final ModelServiceCodec CODEC = new ModelServiceCodec();
    private static final ModelMetadata IRIS = new ModelMetadata("iris", List.of("1", "2"), "onnxruntime_onnx",
            List.of(new TensorMetadata("float_input", DataType.FP32, List.of(-1L, 4L))),
            List.of(new TensorMetadata("probabilities", DataType.FP32, List.of(-1L, 3L))));

    @Test
    void theServiceLoaderFindsItUnderItsOwnDialect() {
        CodecProvider provider = ServiceLoader.load(CodecProvider.class).stream()
                .map(ServiceLoader.Provider::get)
                .filter(found -> found.type().equals("model-service"))
                .findFirst().orElseThrow();

        InferenceCodec codec = provider.codecs().getFirst();
        assertEquals("model-service", codec.dialect());
        assertEquals("application/x-protobuf", codec.mediaType());
        assertTrue(codec.reads("application/protobuf"));
        assertEquals(List.of(40025, 40026), provider.errorCodes().stream().map(ErrorCode::code).toList());
    }

    @Test
    void featuresBecomeOneRowNamedAsTheModelsFirstInput() {
        PredictRequest message = PredictRequest.newBuilder()
                .addAllFeatures(List.of(5.1f, 3.5f, 1.4f, 0.2f)).setModel("iris").setModelVersion("2").setId("a-1")
                .build();

        InferenceRequest request = CODEC.decodeRequest(payload(message.toByteArray()), exchange(null, null), IRIS);

        assertEquals("iris", request.model());
        assertEquals("2", request.version());
        assertEquals("a-1", request.id());
        Tensor input = request.inputs().getFirst();
        assertEquals("float_input", input.name());
        assertEquals(DataType.FP32, input.type());
        assertArrayEquals(new long[] {1, 4}, input.shape());
        assertEquals(1.4f, input.doubleAt(2), 0f);
    }

    @Test
    void withoutMetadataTheInputIsNamedAfterTheField() {
        InferenceRequest request = CODEC.decodeRequest(
                payload(PredictRequest.newBuilder().addFeatures(1f).build().toByteArray()), exchange("m", null), null);

        assertEquals("m", request.model());
        assertNull(request.version());
        assertNull(request.id());
        assertEquals("features", request.inputs().getFirst().name());
    }

    @Test
    void badRequestsAreRejectedWithTheirCodes() {
        byte[] oneFeature = PredictRequest.newBuilder().addFeatures(1f).build().toByteArray();
        assertRejected(CoreErrors.MALFORMED_BODY,
                () -> CODEC.decodeRequest(payload(new byte[] {(byte) 0xff, 1}), exchange("m", null), null));
        assertRejected(CoreErrors.INVALID_PREDICT_REQUEST,
                () -> CODEC.decodeRequest(payload(oneFeature), exchange(null, null), null));
        assertRejected(CoreErrors.INVALID_PREDICT_REQUEST, () -> CODEC.decodeRequest(
                payload(PredictRequest.newBuilder().setModel("m").build().toByteArray()), exchange(null, null), null));
        assertRejected(CoreErrors.INVALID_PREDICT_REQUEST, () -> CODEC.decodeRequest(
                payload(PredictRequest.newBuilder(PredictRequest.parseFrom(oneFeature)).setModel("other").build()
                        .toByteArray()), exchange("m", null), null));
    }

    @Test
    void theAnswerCarriesTheFirstOutput() throws InvalidProtocolBufferException {
        InferenceResponse response = new InferenceResponse("iris", "2", "a-1", List.of(
                Tensor.ofFloats("probabilities", new long[] {1, 3}, 0.9f, 0.07f, 0.03f),
                Tensor.ofFloats("label", new long[] {1}, 0f)), Map.of());

        PredictResponse message = PredictResponse.parseFrom(CODEC.encodeResponse(response, exchange("iris", null)).body());

        assertEquals(0.9f, message.getPrediction());
        assertEquals(List.of(0.9f, 0.07f, 0.03f), message.getOutputsList());
        assertEquals("iris", message.getModel());
        assertEquals("2", message.getModelVersion());
        assertEquals("a-1", message.getId());
    }

    @Test
    void integerOutputsBecomeFloats() throws InvalidProtocolBufferException {
        ByteBuffer labels = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(2).putLong(7).flip();
        InferenceResponse response = new InferenceResponse("m", null, null,
                List.of(Tensor.of("label", DataType.INT64, new long[] {2}, labels)), Map.of());

        PredictResponse message = PredictResponse.parseFrom(CODEC.encodeResponse(response, exchange("m", null)).body());

        assertEquals(List.of(2f, 7f), message.getOutputsList());
        assertEquals("", message.getModelVersion());
    }

    @Test
    void anAnswerWithoutANumberCannotBeExpressed() {
        InferenceResponse none = new InferenceResponse("m", null, null, List.of(), Map.of());
        InferenceResponse text = new InferenceResponse("m", null, null,
                List.of(Tensor.ofBytes("t", new long[] {1}, List.of(new byte[] {'a'}))), Map.of());

        assertRejected(ModelServiceCodecProvider.ANSWER_NOT_EXPRESSIBLE,
                () -> CODEC.encodeResponse(none, exchange("m", null)));
        assertRejected(ModelServiceCodecProvider.ANSWER_NOT_EXPRESSIBLE,
                () -> CODEC.encodeResponse(text, exchange("m", null)));
    }

    @Test
    void aBackendRequestRoundTripsThroughAFront() {
        InferenceRequest request = new InferenceRequest("iris", "1", "r-9",
                List.of(Tensor.ofFloats("x", new long[] {1, 3}, 1f, 2f, 3f)), List.of(), Map.of());

        InferenceRequest decoded = CODEC.decodeRequest(CODEC.encodeRequest(request), exchange(null, null), null);

        assertEquals("iris", decoded.model());
        assertEquals("1", decoded.version());
        assertEquals("r-9", decoded.id());
        assertEquals(request.inputs().getFirst().data(), decoded.inputs().getFirst().data());
    }

    @Test
    void aBackendRequestHoldsOneNumericInput() {
        Tensor x = Tensor.ofFloats("x", new long[] {1}, 1f);
        InferenceRequest two = new InferenceRequest("m", null, null, List.of(x, x.withName("y")), List.of(), Map.of());
        InferenceRequest text = new InferenceRequest("m", null, null,
                List.of(Tensor.ofBytes("t", new long[] {1}, List.of(new byte[] {'a'}))), List.of(), Map.of());

        assertRejected(ModelServiceCodecProvider.REQUEST_NOT_EXPRESSIBLE, () -> CODEC.encodeRequest(two));
        assertRejected(ModelServiceCodecProvider.REQUEST_NOT_EXPRESSIBLE, () -> CODEC.encodeRequest(text));
    }

    @Test
    void aBackendAnswerRoundTripsThroughAFront() throws BackendException {
        InferenceRequest request = new InferenceRequest("iris", null, "r-9",
                List.of(Tensor.ofFloats("x", new long[] {1, 1}, 1f)), List.of(), Map.of());
        InferenceResponse answer = new InferenceResponse("iris", "2", "r-9",
                List.of(Tensor.ofFloats("probabilities", new long[] {1, 2}, 0.25f, 0.75f)), Map.of());

        InferenceResponse decoded = CODEC.decodeResponse(CODEC.encodeResponse(answer, exchange("iris", null)), request);

        Tensor output = decoded.outputs().getFirst();
        assertEquals("prediction", output.name());
        assertArrayEquals(new long[] {1, 2}, output.shape());
        assertEquals(0.75f, output.doubleAt(1), 0f);
        assertEquals("2", decoded.version());
    }

    @Test
    void anArticleServersAnswerIsItsPredictionAlone() throws BackendException {
        InferenceRequest request = new InferenceRequest("m", null, "r-1",
                List.of(Tensor.ofFloats("x", new long[] {1, 1}, 1f)), List.of(), Map.of());

        InferenceResponse decoded = CODEC.decodeResponse(
                payload(PredictResponse.newBuilder().setPrediction(0.5f).build().toByteArray()), request);

        assertEquals("m", decoded.model());
        assertEquals("r-1", decoded.id());
        assertArrayEquals(new long[] {1, 1}, decoded.outputs().getFirst().shape());
        assertEquals(0.5f, decoded.outputs().getFirst().doubleAt(0), 0f);
    }

    @Test
    void aBackendsErrorOrGarbageIsAProtocolFailure() {
        InferenceRequest request = new InferenceRequest("m", null, null, List.of(), List.of(), Map.of());
        byte[] error = PredictResponse.newBuilder()
                .setError(Error.newBuilder().setCode(40001).setStatus("NOT_FOUND").setMessage("no such model"))
                .build().toByteArray();

        BackendException failed = assertThrows(BackendException.class,
                () -> CODEC.decodeResponse(payload(error), request));
        assertEquals(BackendException.Kind.PROTOCOL, failed.kind());
        assertTrue(failed.getMessage().contains("no such model"), failed.getMessage());
        assertEquals(BackendException.Kind.PROTOCOL, assertThrows(BackendException.class,
                () -> CODEC.decodeResponse(payload(new byte[] {(byte) 0xff, 1}), request)).kind());
    }

    @Test
    void metadataCarriesTheNameAndOneVersionOnly() throws BackendException {
        ModelMetadata decoded = CODEC.decodeMetadata(CODEC.encodeMetadata(IRIS, exchange("iris", null)), "iris");

        assertEquals(new ModelMetadata("iris", List.of("2"), "", List.of(), List.of()), decoded);
        assertEquals(List.of("1"), CODEC.decodeMetadata(CODEC.encodeMetadata(IRIS, exchange("iris", "1")), "x")
                .versions());
    }

    private static CodecExchange exchange(String model, String version) {
        return CodecExchange.call("model-service", model, version, "predict");
    }

    private static Payload payload(byte[] body) {
        return new Payload("application/x-protobuf", body);
    }

    private static void assertRejected(ErrorCode expected, Executable call) {
        RejectionException rejection = assertThrows(RejectionException.class, call);
        assertEquals(expected, rejection.errorCode(), rejection.getMessage());
    }
}
