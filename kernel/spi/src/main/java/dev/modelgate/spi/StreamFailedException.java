package dev.modelgate.spi;

import java.io.IOException;

/**
 * Thrown by a streaming {@link Body} whose source failed midway after the body has told the client so in its own
 * protocol (an error event, say). The kernel then ends the answer as a whole one (a client reading it gets the
 * error, not a cut connection), and the exchange's {@link Exchange#onComplete completion listeners} receive this
 * exception as the failure: the access log records its code, a circuit breaker counts the call as failed.
 */
public final class StreamFailedException extends IOException {

    private final ErrorCode errorCode;

    public StreamFailedException(ErrorCode errorCode, String message, Throwable cause) {
        super(message, cause);
        this.errorCode = errorCode;
    }

    /** What went wrong, in the gateway's codes. */
    public ErrorCode errorCode() {
        return errorCode;
    }
}
