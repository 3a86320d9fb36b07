package dev.modelgate.plugins.grpcfront;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dev.modelgate.plugins.kservev2.protobuf.inference.GRPCInferenceServiceGrpc;
import dev.modelgate.plugins.kservev2.protobuf.inference.ModelInferRequest;
import dev.modelgate.plugins.kservev2.protobuf.inference.ModelInferResponse;
import dev.modelgate.plugins.kservev2.protobuf.inference.ModelMetadataRequest;
import dev.modelgate.plugins.kservev2.protobuf.inference.ModelMetadataResponse;
import dev.modelgate.plugins.kservev2.protobuf.inference.ModelReadyRequest;
import dev.modelgate.plugins.kservev2.protobuf.inference.ModelStreamInferResponse;
import dev.modelgate.plugins.kservev2.protobuf.inference.ServerLiveRequest;
import dev.modelgate.plugins.kservev2.protobuf.inference.ServerMetadataRequest;
import dev.modelgate.plugins.kservev2.protobuf.inference.ServerReadyRequest;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** KServe v2's GRPCInferenceService through the gRPC front, with the generated stubs, against the demo model. */
class KServeGrpcTest {

    static final float[] SETOSA = {5.1f, 3.5f, 1.4f, 0.2f};
    static final float[] VIRGINICA = {6.3f, 3.3f, 6.0f, 2.5f};

    private static GrpcGateway gateway;
    private static GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub stub;

    @BeforeAll
    static void start() throws Exception {
        gateway = GrpcGateway.start(GrpcGateway.DEMO.replace("address: 127.0.0.1", """
                address: 127.0.0.1
                  max-body-size: 64KB
                  max-header-size: 4KB"""));
        stub = GRPCInferenceServiceGrpc.newBlockingStub(gateway.channel).withDeadlineAfter(30, TimeUnit.SECONDS);
    }

    @AfterAll
    static void stop() throws Exception {
        gateway.close();
    }

    static ByteString floats(float... values) {
        ByteBuffer buffer = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float value : values) {
            buffer.putFloat(value);
        }
        return ByteString.copyFrom(buffer.array());
    }

    static ModelInferRequest inferRequest(String model, float[]... rows) {
        float[] all = new float[rows.length * 4];
        for (int i = 0; i < rows.length; i++) {
            System.arraycopy(rows[i], 0, all, 4 * i, 4);
        }
        return ModelInferRequest.newBuilder().setModelName(model).setId("req-1")
                .addInputs(ModelInferRequest.InferInputTensor.newBuilder().setName("features").setDatatype("FP32")
                        .addShape(rows.length).addShape(4))
                .addRawInputContents(floats(all))
                .build();
    }

    /** The INT64 labels of an answer's {@code label} output. */
    static long[] labels(ModelInferResponse response) {
        for (int i = 0; i < response.getOutputsCount(); i++) {
            if (response.getOutputs(i).getName().equals("label")) {
                ByteBuffer raw = response.getRawOutputContents(i).asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
                long[] labels = new long[raw.remaining() / 8];
                for (int j = 0; j < labels.length; j++) {
                    labels[j] = raw.getLong();
                }
                return labels;
            }
        }
        throw new AssertionError("no label output in " + response);
    }

    @Test
    void serverCallsAnswerLiveReadyAndMetadata() {
        assertTrue(stub.serverLive(ServerLiveRequest.getDefaultInstance()).getLive());
        assertTrue(stub.serverReady(ServerReadyRequest.getDefaultInstance()).getReady());
        assertEquals("modelgate", stub.serverMetadata(ServerMetadataRequest.getDefaultInstance()).getName());
    }

    @Test
    void modelReadyAndMetadataDescribeTheModel() {
        assertTrue(stub.modelReady(ModelReadyRequest.newBuilder().setName("demo").build()).getReady());
        ModelMetadataResponse metadata = stub.modelMetadata(ModelMetadataRequest.newBuilder().setName("demo").build());
        assertEquals("demo", metadata.getName());
        assertEquals("features", metadata.getInputs(0).getName());
        assertEquals("FP32", metadata.getInputs(0).getDatatype());
        assertEquals(List.of("probabilities", "label"),
                metadata.getOutputsList().stream().map(output -> output.getName()).toList());
    }

    @Test
    void modelInferReadsRawInputsAndWritesRawOutputs() {
        ModelInferResponse response = stub.modelInfer(inferRequest("demo", SETOSA, VIRGINICA));
        assertEquals("demo", response.getModelName());
        assertEquals("req-1", response.getId());
        assertArrayEquals(new long[] {0, 2}, labels(response));
        assertEquals(2, response.getRawOutputContentsCount());
    }

    @Test
    void modelInferReadsTypedContentsToo() {
        ModelInferRequest typed = ModelInferRequest.newBuilder().setModelName("demo")
                .addInputs(ModelInferRequest.InferInputTensor.newBuilder().setName("features").setDatatype("FP32")
                        .addShape(1).addShape(4).setContents(
                                dev.modelgate.plugins.kservev2.protobuf.inference.InferTensorContents.newBuilder()
                                        .addFp32Contents(6.3f).addFp32Contents(3.3f).addFp32Contents(6.0f)
                                        .addFp32Contents(2.5f)))
                .build();
        assertArrayEquals(new long[] {2}, labels(stub.modelInfer(typed)));
    }

    @Test
    void anUnknownModelIsNotFoundWithItsCode() {
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                () -> stub.modelInfer(inferRequest("nope", SETOSA)));
        assertEquals(Status.Code.NOT_FOUND, e.getStatus().getCode());
        assertEquals(40001, GrpcGateway.code(e));
        assertTrue(e.getStatus().getDescription().contains("'nope'"), e.getStatus().getDescription());
        assertEquals(Status.Code.NOT_FOUND, assertThrows(StatusRuntimeException.class,
                () -> stub.modelReady(ModelReadyRequest.newBuilder().setName("nope").build())).getStatus().getCode());
    }

    @Test
    void aRequestWithoutAModelNameIsInvalidWith20030() {
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                () -> stub.modelInfer(inferRequest("", SETOSA)));
        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
        assertEquals(20030, GrpcGateway.code(e));
    }

    @Test
    void rawContentsThatDisagreeWithTheShapeAreInvalidWith20014() {
        ModelInferRequest wrong = inferRequest("demo", SETOSA).toBuilder()
                .setRawInputContents(0, floats(1f, 2f, 3f)).build();
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> stub.modelInfer(wrong));
        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
        assertEquals(20014, GrpcGateway.code(e));
    }

    @Test
    void aMalformedMessageIsInvalidWith20017() {
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> gateway.rawUnary(
                "inference.GRPCInferenceService/ModelInfer", new byte[] {(byte) 0x0a, (byte) 0x7f, 'd'}));
        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
        assertEquals(20017, GrpcGateway.code(e));
    }

    @Test
    void anUnknownMethodIsUnimplementedWith20004() {
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                () -> gateway.rawUnary("inference.GRPCInferenceService/ModelUnload", new byte[0]));
        assertEquals(Status.Code.UNIMPLEMENTED, e.getStatus().getCode());
        assertEquals(20004, GrpcGateway.code(e));
        StatusRuntimeException service = assertThrows(StatusRuntimeException.class,
                () -> gateway.rawUnary("no.Such/Method", new byte[0]));
        assertEquals(20004, GrpcGateway.code(service));
    }

    /** A request of {@code rows} rows of four features, about {@code 16 * rows} bytes. */
    private static ModelInferRequest rows(int rows) {
        return inferRequest("demo", SETOSA).toBuilder()
                .setInputs(0, ModelInferRequest.InferInputTensor.newBuilder().setName("features").setDatatype("FP32")
                        .addShape(rows).addShape(4))
                .setRawInputContents(0, floats(new float[4 * rows])).build();
    }

    @Test
    void aMessageOverTheSizeLimitIsResourceExhaustedWith20003() {
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> stub.modelInfer(rows(5000)));
        assertEquals(Status.Code.RESOURCE_EXHAUSTED, e.getStatus().getCode());
        assertEquals(20003, GrpcGateway.code(e));
        // Past twice the limit, gRPC refuses the message itself from its length, before buffering it.
        StatusRuntimeException huge = assertThrows(StatusRuntimeException.class, () -> stub.modelInfer(rows(9000)));
        assertEquals(Status.Code.RESOURCE_EXHAUSTED, huge.getStatus().getCode());
        assertTrue(huge.getStatus().getDescription().contains("131072"), huge.getStatus().getDescription());
        // The connection stays usable.
        assertArrayEquals(new long[] {0}, labels(stub.modelInfer(inferRequest("demo", SETOSA))));
    }

    @Test
    void metadataOverTheHeaderLimitAreResourceExhaustedWith20011() {
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> stub
                .withInterceptors(GrpcGateway.metadata("x-padding", "x".repeat(5 << 10)))
                .modelInfer(inferRequest("demo", SETOSA)));
        assertEquals(Status.Code.RESOURCE_EXHAUSTED, e.getStatus().getCode());
        assertEquals(20011, GrpcGateway.code(e));
    }

    @Test
    void modelStreamInferAnswersEachRequestInOrderAndAFailureInItsMessage() throws Exception {
        Collector<ModelInferRequest, ModelStreamInferResponse> stream = new Collector<>();
        StreamObserver<ModelInferRequest> requests = GRPCInferenceServiceGrpc.newStub(gateway.channel)
                .withDeadlineAfter(30, TimeUnit.SECONDS).modelStreamInfer(stream);
        requests.onNext(inferRequest("demo", SETOSA));
        requests.onNext(inferRequest("nope", SETOSA));
        requests.onNext(inferRequest("demo", VIRGINICA));
        requests.onCompleted();
        List<ModelStreamInferResponse> answers = stream.all();
        assertEquals(3, answers.size());
        assertArrayEquals(new long[] {0}, labels(answers.get(0).getInferResponse()));
        assertFalse(answers.get(1).hasInferResponse());
        assertTrue(answers.get(1).getErrorMessage().contains("unknown model"), answers.get(1).getErrorMessage());
        assertTrue(answers.get(1).getErrorMessage().contains("40001"), answers.get(1).getErrorMessage());
        assertArrayEquals(new long[] {2}, labels(answers.get(2).getInferResponse()));
    }

    @Test
    void callsAreCountedUnderTheGrpcProtocol() {
        stub.modelInfer(inferRequest("demo", SETOSA));

        // Counted before the answer is sent; other tests share this gateway, so at least this call.
        assertTrue(gateway.gateway.metric("modelgate_requests_total{backend=\"demo\",code=\"0\",protocol=\"grpc\","
                + "route=\"demo:v1\",status=\"200\"}") >= 1);
    }
}
