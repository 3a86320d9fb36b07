package dev.modelgate.plugins.grpcfront;

import io.grpc.ServerCall;
import io.grpc.StatusRuntimeException;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/** The calls the front is serving, so that a drain past its deadline ends each with a status of its own. */
final class OpenCalls {

    private final Set<OpenCall> open = ConcurrentHashMap.newKeySet();

    OpenCall open(ServerCall<byte[], byte[]> call) {
        OpenCall opened = new OpenCall(call, this);
        open.add(opened);
        return opened;
    }

    void remove(OpenCall call) {
        open.remove(call);
    }

    /** Ends every call still open with a status of {@code status}'s making (each with trailers of its own). */
    void closeAll(Supplier<StatusRuntimeException> status) {
        for (OpenCall call : Set.copyOf(open)) {
            StatusRuntimeException ending = status.get();
            call.close(ending.getStatus(), ending.getTrailers());
        }
    }
}
