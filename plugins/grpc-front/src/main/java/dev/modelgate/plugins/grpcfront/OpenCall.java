package dev.modelgate.plugins.grpcfront;

import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.Status;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A call the front serves, as the drain sees it: what the call's own thread sends and what the drain's deadline ends
 * go through one lock, so the drain may close a call while its stream is still answering, and a call ends once.
 */
final class OpenCall {

    private final ServerCall<byte[], byte[]> call;
    private final OpenCalls registry;
    private final ReentrantLock lock = new ReentrantLock();
    private boolean headersSent;
    private boolean closed;

    OpenCall(ServerCall<byte[], byte[]> call, OpenCalls registry) {
        this.call = call;
        this.registry = registry;
    }

    ServerCall<byte[], byte[]> call() {
        return call;
    }

    /** Sends one message, after {@code headers} when none were sent yet; nothing once the call is closed. */
    void send(Metadata headers, byte[] message) {
        lock.lock();
        try {
            if (closed) {
                return;
            }
            if (!headersSent) {
                call.sendHeaders(headers);
                headersSent = true;
            }
            call.sendMessage(message);
        } finally {
            lock.unlock();
        }
    }

    /** Ends the call with {@code status} and {@code trailers}, unless it has ended. */
    void close(Status status, Metadata trailers) {
        lock.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            call.close(status, trailers);
        } finally {
            lock.unlock();
        }
        registry.remove(this);
    }

    /** The client cancelled, or the call ended otherwise: nothing more may be sent. */
    void cancelled() {
        lock.lock();
        try {
            closed = true;
        } finally {
            lock.unlock();
        }
        registry.remove(this);
    }
}
