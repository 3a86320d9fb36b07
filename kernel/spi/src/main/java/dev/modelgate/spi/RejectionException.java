package dev.modelgate.spi;

/**
 * Thrown by the kernel's own request services when the request must be answered with an error: {@link Exchange#body()}
 * past the size limit, {@link Exchange#json()} on malformed JSON. A middleware may let it propagate; the kernel turns
 * it into the error response of its code, as if the middleware had returned {@link Exchange#error}.
 */
public final class RejectionException extends RuntimeException {

    private final transient ErrorCode errorCode;

    public RejectionException(ErrorCode errorCode, String message) {
        super(message, null, false, false);
        this.errorCode = errorCode;
    }

    public ErrorCode errorCode() {
        return errorCode;
    }
}
