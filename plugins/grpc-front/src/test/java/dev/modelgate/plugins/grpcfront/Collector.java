package dev.modelgate.plugins.grpcfront;

import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A call's answers as they arrive, and how it ended, for calls made with the generated async stubs.
 *
 * @param <Q> the request type
 * @param <A> the answer type
 */
class Collector<Q, A> implements ClientResponseObserver<Q, A> {

    final LinkedBlockingQueue<A> answers = new LinkedBlockingQueue<>();
    final CompletableFuture<Void> ended = new CompletableFuture<>();

    /** Called before the call starts, with its request stream: override to send under flow control. */
    @Override
    public void beforeStart(ClientCallStreamObserver<Q> requests) {
    }

    @Override
    public void onNext(A answer) {
        answers.add(answer);
    }

    @Override
    public void onError(Throwable failure) {
        ended.completeExceptionally(failure);
    }

    @Override
    public void onCompleted() {
        ended.complete(null);
    }

    /** The next answer, waiting for it up to 30 s. */
    A next() throws InterruptedException {
        A answer = answers.poll(30, TimeUnit.SECONDS);
        if (answer == null) {
            throw new AssertionError("no answer within 30 s");
        }
        return answer;
    }

    /** Every answer, once the call ended well. */
    List<A> all() throws Exception {
        ended.get(120, TimeUnit.SECONDS);
        return new ArrayList<>(answers);
    }
}
