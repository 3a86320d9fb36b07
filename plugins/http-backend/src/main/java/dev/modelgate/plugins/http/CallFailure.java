package dev.modelgate.plugins.http;

import dev.modelgate.spi.BackendException;
import dev.modelgate.spi.CoreErrors;
import dev.modelgate.spi.ErrorCode;
import dev.modelgate.spi.RejectionException;
import dev.modelgate.spi.upstream.UpstreamException;
import java.io.IOException;

/**
 * A failed call, as the client is told of it, and as balancing sees it. The messages name no host; the cause keeps
 * the detail for the gateway's log.
 *
 * <p>"Could not reach the backend" (503, 40003: nothing reached it, another instance may serve the request) is kept
 * apart from "the backend broke its answer" (502, 40012: the request reached it, so only an idempotent request may be
 * sent again).
 *
 * @param exception the failure as a backend's exception, mapped by the kernel to its code by kind
 * @param ownCode the code to answer instead of the kind's, or {@code null}
 * @param instanceAtFault whether it counts against the instance for passive ejection
 */
record CallFailure(BackendException exception, ErrorCode ownCode, boolean instanceAtFault) {

    CallFailure(BackendException exception, boolean instanceAtFault) {
        this(exception, null, instanceAtFault);
    }

    /** The call outlived its time. */
    static CallFailure timedOut(IOException cause) {
        return new CallFailure(new BackendException(BackendException.Kind.TIMEOUT, "no response in time", cause),
                true);
    }

    /** The answer is larger than {@code max-response-size}. */
    static CallFailure tooLarge(int limit) {
        return tooLarge(new IOException("the response is larger than the limit of " + limit + " bytes"));
    }

    private static CallFailure tooLarge(IOException cause) {
        return new CallFailure(new BackendException(BackendException.Kind.PROTOCOL, cause.getMessage(), cause),
                CoreErrors.BACKEND_RESPONSE_TOO_LARGE, false);
    }

    /**
     * Maps a failed call to what the client is told: could not reach, reached but no answer in time, or garbled. A
     * failure that is not the upstream pool's (a stream's reader interrupted, say) counts as a broken answer.
     */
    static CallFailure of(IOException e) {
        UpstreamException.Kind kind = e instanceof UpstreamException upstream ? upstream.kind()
                : UpstreamException.Kind.BROKEN;
        return switch (kind) {
            case CONNECT_FAILED -> new CallFailure(new BackendException(BackendException.Kind.UNAVAILABLE,
                    "cannot connect to the backend", e), true);
            // Our own pool is full: no fault of the instance.
            case POOL_EXHAUSTED -> new CallFailure(new BackendException(BackendException.Kind.UNAVAILABLE,
                    "no free connection: every pooled connection stayed in use", e), false);
            // A kept-alive connection the backend had already closed: the pool's loss, not the instance's fault.
            case STALE_CONNECTION -> new CallFailure(new BackendException(BackendException.Kind.UNAVAILABLE,
                    "the backend closed an idle connection", e), false);
            // The backend is being closed by a reload or shutdown: nothing the instance did.
            case CLOSED -> new CallFailure(new BackendException(BackendException.Kind.UNAVAILABLE,
                    "the backend is closing", e), false);
            // A pushed stream that went quiet (this backend reads its streams) is as late as one out of time.
            case TIMED_OUT, STALLED -> timedOut(e);
            case MALFORMED -> new CallFailure(new BackendException(BackendException.Kind.PROTOCOL,
                    "malformed response", e), true);
            case TOO_LARGE -> tooLarge(e);
            // Connected, then the connection broke: reset, or closed before the whole response came.
            case BROKEN -> new CallFailure(new BackendException(BackendException.Kind.PROTOCOL,
                    "the connection broke before the whole answer came", e), CoreErrors.BACKEND_ANSWER_BROKEN, true);
        };
    }

    /**
     * The failure as an unchecked rejection with the code the kernel gives the same {@link BackendException}: for
     * failures found after {@code forward} returned, while its body is read.
     */
    RejectionException asRejection() {
        return new RejectionException(ownCode != null ? ownCode : switch (exception.kind()) {
            case UNAVAILABLE -> CoreErrors.BACKEND_UNAVAILABLE;
            case TIMEOUT -> CoreErrors.BACKEND_TIMEOUT;
            case PROTOCOL -> CoreErrors.BACKEND_BAD_RESPONSE;
        }, exception.getMessage());
    }
}
