package dev.modelgate.plugins.http;

import dev.modelgate.spi.BackendException;
import dev.modelgate.spi.CoreErrors;
import dev.modelgate.spi.ErrorCode;
import dev.modelgate.spi.RejectionException;
import java.io.IOException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import org.apache.hc.client5.http.ClientProtocolException;
import org.apache.hc.client5.http.ConnectTimeoutException;
import org.apache.hc.core5.http.ConnectionRequestTimeoutException;
import org.apache.hc.core5.http.MalformedChunkCodingException;
import org.apache.hc.core5.http.NoHttpResponseException;

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

    /** The call outlived its time: the watchdog aborted it, or one read waited longer than the request timeout. */
    static CallFailure timedOut(IOException cause) {
        return new CallFailure(new BackendException(BackendException.Kind.TIMEOUT, "no response in time", cause),
                true);
    }

    /** The answer is larger than {@code max-response-size}. */
    static CallFailure tooLarge(int limit) {
        return new CallFailure(new BackendException(BackendException.Kind.PROTOCOL,
                "the response is larger than the limit of " + limit + " bytes", null),
                CoreErrors.BACKEND_RESPONSE_TOO_LARGE, false);
    }

    /** Maps a failed call to what the client is told: could not reach, reached but no answer in time, or garbled. */
    static CallFailure of(IOException e) {
        if (e instanceof ConnectException
                || e instanceof ConnectTimeoutException
                || e instanceof NoRouteToHostException
                || e instanceof UnknownHostException) {
            return new CallFailure(new BackendException(BackendException.Kind.UNAVAILABLE,
                    "cannot connect to the backend", e), true);
        }
        if (e instanceof ConnectionRequestTimeoutException) {
            // Our own pool is full: no fault of the instance.
            return new CallFailure(new BackendException(BackendException.Kind.UNAVAILABLE,
                    "no free connection: every pooled connection stayed in use", e), false);
        }
        if (e instanceof SocketTimeoutException) {
            return timedOut(e);
        }
        if (e instanceof NoHttpResponseException) {
            // A kept-alive connection the backend had already closed: the pool's loss, not the instance's fault.
            return new CallFailure(new BackendException(BackendException.Kind.UNAVAILABLE,
                    "the backend closed an idle connection", e), false);
        }
        if (e instanceof ClientProtocolException || e instanceof MalformedChunkCodingException) {
            return new CallFailure(new BackendException(BackendException.Kind.PROTOCOL, "malformed response", e),
                    true);
        }
        // Connected, then the connection broke: reset, or closed before the whole response came.
        return new CallFailure(new BackendException(BackendException.Kind.PROTOCOL,
                "the connection broke before the whole answer came", e), CoreErrors.BACKEND_ANSWER_BROKEN, true);
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
