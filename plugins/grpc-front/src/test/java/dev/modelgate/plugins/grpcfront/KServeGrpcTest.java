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
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
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
                  max-body-size: 64KB"""));
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

    @Test
    void aMessageOverTheSizeLimitIsResourceExhausted() {
        float[] big = new float[4 * 5000];
        ModelInferRequest request = inferRequest("demo", SETOSA).toBuilder()
                .setInputs(0, ModelInferRequest.InferInputTensor.newBuilder().setName("features").setDatatype("FP32")
                        .addShape(5000).addShape(4))
                .setRawInputContents(0, floats(big)).build();
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> stub.modelInfer(request));
        assertEquals(Status.Code.RESOURCE_EXHAUSTED, e.getStatus().getCode());
        // The status is the transport's: it refuses the message from its length, before buffering it.
        assertTrue(e.getStatus().getDescription().contains("65536"), e.getStatus().getDescription());
        // The connection stays usable.
        assertArrayEquals(new long[] {0}, labels(stub.modelInfer(inferRequest("demo", SETOSA))));
    }

    @Test
    void modelStreamInferAnswersEachRequestInOrderAndAFailureInItsMessage() throws Exception {
        List<ModelStreamInferResponse> answers = new CopyOnWriteArrayList<>();
        CountDownLatch done = new CountDownLatch(1);
        Throwable[] failure = new Throwable[1];
        StreamObserver<ModelInferRequest> requests = GRPCInferenceServiceGrpc.newStub(gateway.channel)
                .withDeadlineAfter(30, TimeUnit.SECONDS)
                .modelStreamInfer(new StreamObserver<>() {
                    @Override
                    public void onNext(ModelStreamInferResponse value) {
                        answers.add(value);
                    }

                    @Override
                    public void onError(Throwable t) {
                        failure[0] = t;
                        done.countDown();
                    }

                    @Override
                    public void onCompleted() {
                        done.countDown();
                    }
                });
        requests.onNext(inferRequest("demo", SETOSA));
        requests.onNext(inferRequest("nope", SETOSA));
        requests.onNext(inferRequest("demo", VIRGINICA));
        requests.onCompleted();
        assertTrue(done.await(30, TimeUnit.SECONDS));
        assertEquals(null, failure[0]);
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
        gateway.gateway.awaitMetric(
                "modelgate_requests_total{backend=\"demo\",protocol=\"grpc\",route=\"demo:v1\",status=\"200\"} "
                        + countOf(), java.time.Duration.ofSeconds(10));
    }

    /** The route's gRPC count as the last scrape has it, which the call above is in. */
    private static String countOf() {
        String metrics = gateway.gateway.adminGet("/metrics").body();
        return metrics.lines()
                .filter(line -> line.startsWith(
                        "modelgate_requests_total{backend=\"demo\",protocol=\"grpc\",route=\"demo:v1\",status=\"200\"}"))
                .map(line -> line.substring(line.lastIndexOf(' ') + 1)).findFirst().orElse("none");
    }
}
