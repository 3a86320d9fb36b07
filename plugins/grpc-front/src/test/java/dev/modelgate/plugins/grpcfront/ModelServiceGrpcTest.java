package dev.modelgate.plugins.grpcfront;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.modelgate.plugins.modelservice.api.ModelServiceGrpc;
import dev.modelgate.plugins.modelservice.api.PredictRequest;
import dev.modelgate.plugins.modelservice.api.PredictResponse;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The seed's ModelService over the gRPC front: Predict, and StreamPredict with flow control both ways. */
class ModelServiceGrpcTest {

    private static GrpcGateway gateway;
    private static ModelServiceGrpc.ModelServiceBlockingStub stub;

    @BeforeAll
    static void start() throws Exception {
        gateway = GrpcGateway.start(GrpcGateway.DEMO);
        stub = ModelServiceGrpc.newBlockingStub(gateway.channel).withDeadlineAfter(30, TimeUnit.SECONDS);
    }

    @AfterAll
    static void stop() throws Exception {
        gateway.close();
    }

    static PredictRequest request(String model, String id, float... features) {
        PredictRequest.Builder request = PredictRequest.newBuilder().setModel(model).setId(id);
        for (float feature : features) {
            request.addFeatures(feature);
        }
        return request.build();
    }

    @Test
    void predictAnswersTheFirstOutputOfTheModel() {
        PredictResponse response = stub.predict(request("demo", "a", KServeGrpcTest.SETOSA));
        assertEquals("demo", response.getModel());
        assertEquals("a", response.getId());
        assertEquals(3, response.getOutputsCount());
        assertEquals(response.getOutputs(0), response.getPrediction());
        assertTrue(response.getPrediction() > 0.5f, "setosa's probability: " + response.getPrediction());
        assertFalse(response.hasError());
    }

    @Test
    void aRequestWithoutAModelGoesToTheDefaultModel() {
        PredictResponse response = stub.predict(request("", "b", KServeGrpcTest.VIRGINICA));
        assertEquals("demo", response.getModel());
        assertTrue(response.getOutputs(2) > 0.5f, "virginica's probability: " + response.getOutputs(2));
    }

    @Test
    void withoutADefaultModelARequestWithoutAModelIsInvalidWith20030() throws Exception {
        try (GrpcGateway noDefault = GrpcGateway.start(GrpcGateway.DEMO.replace("""
                fronts:
                  grpc:
                    default-model: demo
                """, ""))) {
            StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                    () -> ModelServiceGrpc.newBlockingStub(noDefault.channel).withDeadlineAfter(30, TimeUnit.SECONDS)
                            .predict(request("", "c", KServeGrpcTest.SETOSA)));
            assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
            assertEquals(20030, GrpcGateway.code(e));
        }
    }

    @Test
    void anUnknownModelIsNotFoundWith40001() {
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                () -> stub.predict(request("nope", "d", KServeGrpcTest.SETOSA)));
        assertEquals(Status.Code.NOT_FOUND, e.getStatus().getCode());
        assertEquals(40001, GrpcGateway.code(e));
    }

    /** Sends {@code count} requests as fast as flow control lets it, one failing, and collects every answer. */
    @Test
    void tenThousandMessagesOnOneStreamAreAnsweredInOrderAndAFailureDoesNotEndIt() throws Exception {
        int count = 10_000;
        int failing = 4_321;
        List<PredictResponse> answers = new ArrayList<>(count);
        CompletableFuture<Void> done = new CompletableFuture<>();
        AtomicInteger next = new AtomicInteger();
        ModelServiceGrpc.newStub(gateway.channel).withDeadlineAfter(120, TimeUnit.SECONDS).streamPredict(
                new ClientResponseObserver<PredictRequest, PredictResponse>() {
                    @Override
                    public void beforeStart(ClientCallStreamObserver<PredictRequest> requests) {
                        requests.setOnReadyHandler(() -> {
                            while (requests.isReady() && next.get() < count) {
                                int i = next.getAndIncrement();
                                requests.onNext(request(i == failing ? "nope" : "demo", Integer.toString(i),
                                        i % 2 == 0 ? KServeGrpcTest.SETOSA : KServeGrpcTest.VIRGINICA));
                                if (i == count - 1) {
                                    requests.onCompleted();
                                }
                            }
                        });
                    }

                    @Override
                    public void onNext(PredictResponse value) {
                        answers.add(value);
                    }

                    @Override
                    public void onError(Throwable t) {
                        done.completeExceptionally(t);
                    }

                    @Override
                    public void onCompleted() {
                        done.complete(null);
                    }
                });
        done.get(120, TimeUnit.SECONDS);
        assertEquals(count, answers.size());
        for (int i = 0; i < count; i++) {
            PredictResponse answer = answers.get(i);
            assertEquals(Integer.toString(i), answer.getId());
            if (i == failing) {
                assertEquals(40001, answer.getError().getCode());
                assertEquals("NOT_FOUND", answer.getError().getStatus());
            } else {
                assertFalse(answer.hasError(), answer.toString());
                assertEquals(i % 2 == 0 ? 0 : 2, argmax(answer), answer.toString());
            }
        }
    }

    private static int argmax(PredictResponse answer) {
        int best = 0;
        for (int i = 1; i < answer.getOutputsCount(); i++) {
            best = answer.getOutputs(i) > answer.getOutputs(best) ? i : best;
        }
        return best;
    }

    /**
     * A client that reads no answers: the gateway stops reading its requests once it cannot send, so the client's
     * flow control stops it long before all are sent; then it reads, and gets every answer to what it sent, in order.
     */
    @Test
    void aClientThatStopsReadingStopsTheStreamInsteadOfFillingTheGateway() throws Exception {
        int limit = 200_000;
        ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", gateway.gateway.grpcPort())
                .usePlaintext().flowControlWindow(64 << 10).build();
        try {
            ClientCall<PredictRequest, PredictResponse> call = channel.newCall(
                    ModelServiceGrpc.getStreamPredictMethod(), CallOptions.DEFAULT.withDeadlineAfter(120,
                            TimeUnit.SECONDS));
            ConcurrentLinkedQueue<PredictResponse> answers = new ConcurrentLinkedQueue<>();
            Semaphore ready = new Semaphore(0);
            CompletableFuture<Status> closed = new CompletableFuture<>();
            call.start(new ClientCall.Listener<>() {
                @Override
                public void onMessage(PredictResponse message) {
                    answers.add(message);
                }

                @Override
                public void onReady() {
                    ready.release();
                }

                @Override
                public void onClose(Status status, Metadata trailers) {
                    closed.complete(status);
                }
            }, new Metadata());
            int sent = 0;
            // No request(n): the client reads nothing. It sends while gRPC says it may, and stops once no onReady
            // comes for a while: the gateway has stopped reading.
            while (sent < limit) {
                if (call.isReady()) {
                    call.sendMessage(request("demo", Integer.toString(sent), KServeGrpcTest.SETOSA));
                    sent++;
                } else if (!ready.tryAcquire(3, TimeUnit.SECONDS)) {
                    break;
                }
            }
            assertTrue(sent < limit / 2, "the gateway kept reading a stream whose answers nobody read: " + sent);
            assertNull(closed.getNow(null));
            call.request(Integer.MAX_VALUE);
            call.halfClose();
            assertEquals(Status.Code.OK, closed.get(120, TimeUnit.SECONDS).getCode());
            assertEquals(sent, answers.size());
            int i = 0;
            for (PredictResponse answer : answers) {
                assertEquals(Integer.toString(i++), answer.getId());
            }
        } finally {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }
}
