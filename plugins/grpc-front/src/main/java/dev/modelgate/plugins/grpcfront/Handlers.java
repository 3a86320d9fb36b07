package dev.modelgate.plugins.grpcfront;

import dev.modelgate.spi.inference.StreamSession;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.Status;

/**
 * The front's call handlers, at the level of {@link ServerCall}: each call runs on its own virtual thread (gRPC
 * serialises one call's callbacks), blocks on the pipeline there, and is registered with the drain while open.
 */
final class Handlers {

    /**
     * Serves one request message of a call: its answer, or a failure that ends the call (on a stream, only what no
     * later message could pass either, such as failed credentials; other failures are answers there).
     */
    @FunctionalInterface
    interface Serve {
        Outcome serve(CallContext context, byte[] request);
    }

    /** Answers a call without reading its messages. */
    @FunctionalInterface
    interface Refuse {
        Outcome refuse(CallContext context);
    }

    private final OpenCalls calls;
    private final Calls pipeline;

    Handlers(OpenCalls calls, Calls pipeline) {
        this.calls = calls;
        this.pipeline = pipeline;
    }

    /** A call answered as soon as it starts, whatever it sends: an error. */
    ServerCallHandler<byte[], byte[]> refusing(Refuse refuse) {
        return (call, metadata) -> {
            refuse.refuse(pipeline.context(call, metadata)).deliver(calls.open(call));
            return new ServerCall.Listener<>() {
            };
        };
    }

    /** Ends {@code call} at once when its metadata are refused; {@code true} then. */
    private boolean refused(OpenCall call, CallContext context) {
        Outcome refusal = pipeline.refusal(context);
        if (refusal != null) {
            refusal.deliver(call);
        }
        return refusal != null;
    }

    /** A unary call: one request message, one answer or an error status. */
    ServerCallHandler<byte[], byte[]> unary(Serve serve) {
        return (call, metadata) -> {
            OpenCall open = calls.open(call);
            CallContext context = pipeline.context(call, metadata);
            if (refused(open, context)) {
                return new ServerCall.Listener<>() {
                };
            }
            // Two, as gRPC's own unary handler asks: a second message is then seen, and refused.
            call.request(2);
            return new ServerCall.Listener<>() {
                private byte[] request;
                private boolean tooMany;

                @Override
                public void onMessage(byte[] message) {
                    tooMany |= request != null;
                    request = message;
                }

                @Override
                public void onHalfClose() {
                    if (tooMany || request == null) {
                        Outcome.error(GrpcFrontProvider.NOT_ONE_MESSAGE, "a unary call takes exactly one request "
                                + "message, but got " + (tooMany ? "more" : "none")).deliver(open);
                        return;
                    }
                    serve.serve(context, request).deliver(open);
                }

                @Override
                public void onCancel() {
                    open.cancelled();
                }

                @Override
                public void onComplete() {
                    open.cancelled();
                }
            };
        };
    }

    /**
     * A bidirectional stream answering each message in order, as soon as it is answered: one message at a time is
     * asked of the client, and the next only once gRPC can send more (its outbound buffer under its threshold), so a
     * client that stops reading stops the stream's reading too, and nothing piles up in the gateway.
     */
    ServerCallHandler<byte[], byte[]> stream(Serve serve) {
        return (call, metadata) -> {
            OpenCall open = calls.open(call);
            CallContext context = pipeline.context(call, metadata);
            if (refused(open, context)) {
                return new ServerCall.Listener<>() {
                };
            }
            // A backend that streams to its server keeps one stream there for the whole of this one.
            StreamSession session = new StreamSession();
            call.request(1);
            return new ServerCall.Listener<>() {
                private boolean waitingForReady;
                private boolean ended;

                @Override
                public void onMessage(byte[] message) {
                    if (ended) {
                        return;
                    }
                    Outcome outcome = session.within(() -> serve.serve(context, message));
                    if (outcome.failed()) {
                        ended = true;
                        session.close();
                        outcome.deliver(open);
                        return;
                    }
                    open.send(new Metadata(), outcome.message());
                    if (call.isReady()) {
                        call.request(1);
                    } else {
                        waitingForReady = true;
                    }
                }

                @Override
                public void onReady() {
                    if (waitingForReady && !ended && call.isReady()) {
                        waitingForReady = false;
                        call.request(1);
                    }
                }

                @Override
                public void onHalfClose() {
                    ended = true;
                    session.close();
                    open.close(Status.OK, new Metadata());
                }

                @Override
                public void onCancel() {
                    ended = true;
                    session.close();
                    open.cancelled();
                }

                @Override
                public void onComplete() {
                    session.close();
                    open.cancelled();
                }
            };
        };
    }
}
