package dev.modelgate.plugins.grpcfront;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.modelgate.kernel.fixtures.ProbeFilterProvider;
import dev.modelgate.plugins.modelservice.api.ModelServiceGrpc;
import dev.modelgate.plugins.modelservice.api.PredictRequest;
import dev.modelgate.plugins.modelservice.api.PredictResponse;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Messages of different StreamPredict streams ride in one batch: the batching filter sits on the backend, after the
 * gRPC front, so every front's requests share its queue. A probe after the batcher holds the first call, so that one
 * message of each stream queues meanwhile.
 */
class StreamBatchingTest {

    private static final Duration WITHIN = Duration.ofSeconds(20);

    /** The demo model behind the batching filter and a probe named {@code probe} that holds the first call. */
    private static String config(String probe) {
        return """
                server:
                  address: 127.0.0.1
                backends:
                  demo:
                    type: onnx
                    model: classpath:models/demo.onnx
                    filters:
                      - type: batching
                        max-batch-size: 8
                      - type: probe
                        name: %s
                        act: hold
                fronts:
                  grpc:
                    default-model: demo
                routes:
                  - model: demo
                    backend: demo
                """.formatted(probe);
    }

    @Test
    void messagesOfTwoStreamsLeaveInOneBatchAndEachStreamGetsItsOwnAnswer() throws Exception {
        ProbeFilterProvider.Hold hold = ProbeFilterProvider.holdFirst("stream-batches");
        try (GrpcGateway gateway = GrpcGateway.start(config("stream-batches"))) {
            ModelServiceGrpc.ModelServiceFutureStub unary = ModelServiceGrpc.newFutureStub(gateway.channel)
                    .withDeadlineAfter(30, TimeUnit.SECONDS);
            var first = unary.predict(ModelServiceGrpcTest.request("demo", "first", KServeGrpcTest.SETOSA));
            assertTrue(hold.arrived().await(WITHIN.toSeconds(), TimeUnit.SECONDS));
            Stream setosa = new Stream(gateway, "a", KServeGrpcTest.SETOSA);
            Stream virginica = new Stream(gateway, "b", 6.9f, 3.1f, 5.4f, 2.1f);
            gateway.gateway.awaitMetric("modelgate_batching_queue_depth{backend=\"demo\"} 2", WITHIN);

            hold.release().countDown();

            assertEquals("first", first.get(WITHIN.toSeconds(), TimeUnit.SECONDS).getId());
            PredictResponse a = setosa.answer();
            PredictResponse b = virginica.answer();
            assertEquals("a", a.getId());
            assertEquals("b", b.getId());
            assertTrue(a.getOutputs(0) > 0.9f, a::toString);   // setosa's probability
            assertTrue(b.getOutputs(2) > 0.9f, b::toString);   // virginica's
            assertEquals(2, ProbeFilterProvider.calls("stream-batches"), "the held call, then one batch of two");
            gateway.gateway.assertMetric("modelgate_batching_batch_size_bucket{backend=\"demo\",le=\"2.0\"} 2");
            setosa.end();
            virginica.end();
        }
    }

    @Test
    void aCallTheClientCancelsWhileItQueuesLeavesTheQueueUnsent() throws Exception {
        ProbeFilterProvider.Hold hold = ProbeFilterProvider.holdFirst("cancelled-batches");
        try (GrpcGateway gateway = GrpcGateway.start(config("cancelled-batches"))) {
            ModelServiceGrpc.ModelServiceFutureStub unary = ModelServiceGrpc.newFutureStub(gateway.channel)
                    .withDeadlineAfter(30, TimeUnit.SECONDS);
            var first = unary.predict(ModelServiceGrpcTest.request("demo", "first", KServeGrpcTest.SETOSA));
            assertTrue(hold.arrived().await(WITHIN.toSeconds(), TimeUnit.SECONDS));
            var cancelled = unary.predict(ModelServiceGrpcTest.request("demo", "cancelled", KServeGrpcTest.SETOSA));
            Stream streamed = new Stream(gateway, "streamed", KServeGrpcTest.SETOSA);
            gateway.gateway.awaitMetric("modelgate_batching_queue_depth{backend=\"demo\"} 2", WITHIN);

            cancelled.cancel(true);
            streamed.requests.onError(new IllegalStateException("the client gives up"));

            gateway.gateway.awaitMetric("modelgate_batching_abandoned_total{backend=\"demo\"} 2", WITHIN);
            gateway.gateway.assertMetric("modelgate_batching_queue_depth{backend=\"demo\"} 0");
            hold.release().countDown();
            assertEquals("first", first.get(WITHIN.toSeconds(), TimeUnit.SECONDS).getId());
            assertEquals(1, ProbeFilterProvider.calls("cancelled-batches"), "only the held call reached the backend");
        }
    }

    /** One open StreamPredict call that has sent one message. */
    private static final class Stream implements StreamObserver<PredictResponse> {
        private final List<PredictResponse> answers = new CopyOnWriteArrayList<>();
        private final CountDownLatch answered = new CountDownLatch(1);
        private final CompletableFuture<Void> ended = new CompletableFuture<>();
        private final StreamObserver<PredictRequest> requests;

        Stream(GrpcGateway gateway, String id, float... features) {
            requests = ModelServiceGrpc.newStub(gateway.channel).withDeadlineAfter(60, TimeUnit.SECONDS)
                    .streamPredict(this);
            requests.onNext(ModelServiceGrpcTest.request("demo", id, features));
        }

        PredictResponse answer() throws InterruptedException {
            assertTrue(answered.await(WITHIN.toSeconds(), TimeUnit.SECONDS), "no answer on the stream");
            return answers.getFirst();
        }

        void end() throws Exception {
            requests.onCompleted();
            ended.get(WITHIN.toSeconds(), TimeUnit.SECONDS);
        }

        @Override
        public void onNext(PredictResponse answer) {
            answers.add(answer);
            answered.countDown();
        }

        @Override
        public void onError(Throwable failure) {
            ended.completeExceptionally(failure);
        }

        @Override
        public void onCompleted() {
            ended.complete(null);
        }
    }
}
