package dev.modelgate.plugins.onnx;

import dev.modelgate.spi.CoreErrors;
import dev.modelgate.spi.ErrorCode;

/**
 * A predict request the model cannot take. Never leaves the backend: it is answered with
 * {@code exchange.error(errorCode(), getMessage())}, so the message is client-safe detail.
 */
final class InvalidInputException extends Exception {

    private final transient ErrorCode errorCode;

    private InvalidInputException(ErrorCode errorCode, String detail) {
        super(detail, null, false, false); // a rejection, not a failure: no stack trace to fill
        this.errorCode = errorCode;
    }

    /** The request's inputs do not match the model's: a name, a shape or a type. */
    static InvalidInputException mismatch(String detail) {
        return new InvalidInputException(CoreErrors.INPUT_MISMATCH, detail);
    }

    /** The request is not a predict request this backend serves, whatever the model. */
    static InvalidInputException invalidRequest(String detail) {
        return new InvalidInputException(CoreErrors.INVALID_PREDICT_REQUEST, detail);
    }

    ErrorCode errorCode() {
        return errorCode;
    }
}
