package dev.modelgate.plugins.grpc;

import dev.modelgate.plugins.pool.Instance;
import dev.modelgate.plugins.pool.InstanceOutcomes;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * One bidirectional call to an instance that lasts a client's whole stream ({@code StreamPredict} to a ModelService
 * server): each client message is sent on it and its answer awaited before the next is sent. One message in flight,
 * and one answer asked of the server at a time ({@code request(1)}), so neither side can pile up messages the other
 * has not taken: backpressure both ways, the client's own being the gRPC front's.
 *
 * <p>Counted as one call of its instance, from open to close. Used by one message at a time, possibly on different
 * threads; the answers come on gRPC's.
 */
final class BackendStream implements AutoCloseable {

    private final ClientCall<byte[], byte[]> call;
    private final Instance instance;
    private final InstanceOutcomes outcomes;
    /** The server's answers as they come: a message, or the {@link Status} the call closed with. */
    private final BlockingQueue<Object> answers = new LinkedBlockingQueue<>();
    private volatile boolean closed;

    /** A failed exchange: the status the call closed with, or DEADLINE_EXCEEDED when no answer came in time. */
    static final class Failure extends Exception {

        private final Status status;

        Failure(Status status) {
            super(status.toString(), null, false, false);
            this.status = status;
        }

        Status status() {
            return status;
        }
    }

    BackendStream(Channel channel, MethodDescriptor<byte[], byte[]> method, Instance instance,
            InstanceOutcomes outcomes) {
        this.instance = instance;
        this.outcomes = outcomes;
        this.call = channel.newCall(method, CallOptions.DEFAULT);
        outcomes.started(instance);
        call.start(new ClientCall.Listener<>() {
            @Override
            public void onMessage(byte[] message) {
                answers.add(message);
            }

            @Override
            public void onClose(Status status, Metadata trailers) {
                // A server that ends the stream while the client's goes on has failed the next message.
                answers.add(status.isOk()
                        ? Status.UNAVAILABLE.withDescription("the model server ended the stream") : status);
            }
        }, new Metadata());
    }

    Instance instance() {
        return instance;
    }

    /** Sends {@code message} and returns its answer, waiting at most {@code waitNanos}. */
    byte[] exchange(byte[] message, long waitNanos) throws Failure, InterruptedException {
        call.request(1);
        call.sendMessage(message);
        Object answer = answers.poll(waitNanos, TimeUnit.NANOSECONDS);
        if (answer == null) {
            call.cancel("no answer in time", null);
            throw new Failure(Status.DEADLINE_EXCEEDED.withDescription("no answer on the stream in time"));
        }
        if (answer instanceof Status status) {
            throw new Failure(status);
        }
        return (byte[]) answer;
    }

    /** The client's stream ended: half-closes this one, which the server then ends. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            call.halfClose();
        } catch (IllegalStateException e) {
            // Already cancelled or closed by a failure: nothing left to end.
        } finally {
            outcomes.ended(instance);
        }
    }
}
