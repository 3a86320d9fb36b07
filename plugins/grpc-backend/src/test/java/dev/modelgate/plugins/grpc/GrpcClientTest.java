package dev.modelgate.plugins.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.modelgate.kernel.testing.RunningGateway;
import dev.modelgate.plugins.modelservice.api.ModelServiceGrpc;
import dev.modelgate.plugins.modelservice.api.PredictRequest;
import dev.modelgate.plugins.modelservice.api.PredictResponse;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * gRPC all the way: a ModelService client calls the gateway's gRPC front, whose routes lead to gRPC model servers of
 * either protocol through grpc backends.
 */
class GrpcClientTest {

    private static ModelServer server;
    private static RunningGateway gateway;
    private static ManagedChannel channel;

    @BeforeAll
    static void start() throws Exception {
        server = ModelServer.start();
        gateway = RunningGateway.startWithGrpc("""
                backends:
                %3$s
                routes:
                  - {model: double, backend: triton}
                  - {model: half, backend: article}
                """.formatted(server.url(), null, server.backends()));
        channel = NettyChannelBuilder.forAddress("127.0.0.1", gateway.grpcPort()).usePlaintext().build();
    }

    @AfterAll
    static void stop() throws Exception {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        gateway.close();
        server.close();
    }

    private static PredictRequest request(String model, String id, float... features) {
        PredictRequest.Builder request = PredictRequest.newBuilder().setModel(model).setId(id);
        for (float feature : features) {
            request.addFeatures(feature);
        }
        return request.build();
    }

    @Test
    void aModelServiceClientReachesAKServeGrpcServer() {
        PredictResponse answer = ModelServiceGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS)
                .predict(request("double", "a-1", 1.5f, 4f));

        assertEquals(3f, answer.getPrediction());
        assertEquals(List.of(3f, 8f), answer.getOutputsList());
        assertEquals("double", answer.getModel());
        assertEquals("a-1", answer.getId());
    }

    @Test
    void aModelServiceClientReachesAModelServiceServer() {
        PredictResponse answer = ModelServiceGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS)
                .predict(request("half", "b-1", 2f, 6f));

        assertEquals(List.of(3f, 5f), answer.getOutputsList());
    }

    /** Sends {@code requests} on one StreamPredict call, ends it, and returns the answers once the call has ended. */
    private static List<PredictResponse> stream(List<PredictRequest> requests) throws InterruptedException {
        List<PredictResponse> answers = new CopyOnWriteArrayList<>();
        CountDownLatch done = new CountDownLatch(1);
        StreamObserver<PredictRequest> sender = ModelServiceGrpc.newStub(channel)
                .withDeadlineAfter(30, TimeUnit.SECONDS)
                .streamPredict(new StreamObserver<>() {
                    @Override
                    public void onNext(PredictResponse answer) {
                        answers.add(answer);
                    }

                    @Override
                    public void onError(Throwable failure) {
                        done.countDown();
                    }

                    @Override
                    public void onCompleted() {
                        done.countDown();
                    }
                });
        requests.forEach(sender::onNext);
        sender.onCompleted();
        assertTrue(done.await(30, TimeUnit.SECONDS), "the stream ended");
        return answers;
    }

    @Test
    void aStreamToAModelServiceServerStaysOneStreamThere() throws Exception {
        int streamsBefore = server.streams.get();
        int messagesBefore = server.streamedMessages.get();
        List<PredictRequest> requests = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            requests.add(request("half", "s-" + i, 2f * i));
        }

        List<PredictResponse> answers = stream(requests);

        assertEquals(200, answers.size());
        for (int i = 0; i < 200; i++) {
            assertEquals("s-" + i, answers.get(i).getId());
            assertEquals(i + 2f, answers.get(i).getPrediction());
        }
        assertEquals(1, server.streams.get() - streamsBefore, "one StreamPredict call to the model server");
        assertEquals(200, server.streamedMessages.get() - messagesBefore);
        assertTrue(server.endedStreams.tryAcquire(10, TimeUnit.SECONDS),
                "the model server's stream ends with the client's");
    }

    @Test
    void aStreamToAKServeServerIsAnsweredInOrderWithAFailureInItsMessage() throws Exception {
        List<PredictRequest> requests = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            // The 10th asks for four values of double, which takes three at most: INVALID_ARGUMENT, 40006.
            requests.add(i == 10 ? request("double", "m-10", 1, 2, 3, 4) : request("double", "m-" + i, i));
        }

        List<PredictResponse> answers = stream(requests);

        assertEquals(50, answers.size());
        for (int i = 0; i < 50; i++) {
            PredictResponse answer = answers.get(i);
            assertEquals("m-" + i, answer.getId());
            if (i == 10) {
                assertEquals(40006, answer.getError().getCode());
            } else {
                assertEquals(2f * i, answer.getPrediction());
            }
        }
    }
}
