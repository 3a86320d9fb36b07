package dev.modelgate.spi;

import dev.modelgate.spi.inference.InferenceResponse;

/**
 * What a backend call ended in, as a value: the backend's own answer on the proxy path, a decoded answer on the
 * inference path, a failure with the gateway's code, or an answer a filter made for the client itself (a fallback).
 * Immutable.
 */
public final class BackendResult {

    private final Response forwarded;
    private final InferenceResponse inferred;
    private final ErrorCode error;
    private final String detail;
    private final Response answered;

    private BackendResult(Response forwarded, InferenceResponse inferred, ErrorCode error, String detail,
            Response answered) {
        this.forwarded = forwarded;
        this.inferred = inferred;
        this.error = error;
        this.detail = detail;
        this.answered = answered;
    }

    /** The backend's own answer to a forwarded call, whatever its status. */
    public static BackendResult forwarded(Response response) {
        return new BackendResult(response, null, null, null, null);
    }

    /** The backend's decoded answer. */
    public static BackendResult inferred(InferenceResponse response) {
        return new BackendResult(null, response, null, null, null);
    }

    /** The call failed: the client gets {@code error} in its protocol's shape. */
    public static BackendResult failed(ErrorCode error, String detail) {
        return new BackendResult(null, null, error, detail, null);
    }

    /** A filter answered instead of the backend: the client gets {@code response} as it is. */
    public static BackendResult answered(Response response) {
        return new BackendResult(null, null, null, null, response);
    }

    /** The backend's answer on the proxy path, or {@code null}. */
    public Response forwardedResponse() {
        return forwarded;
    }

    /** The decoded answer on the inference path, or {@code null}. */
    public InferenceResponse inferenceResponse() {
        return inferred;
    }

    /** Why the call failed, or {@code null}. */
    public ErrorCode error() {
        return error;
    }

    public String detail() {
        return detail;
    }

    /** A filter's own answer for the client, or {@code null}. */
    public Response answeredResponse() {
        return answered;
    }

    /**
     * The gateway's code of the result: the failure's code, 40005 (backend failed) for a forwarded 5xx, 40006
     * (backend rejected) for a forwarded 4xx, the code of a filter's own answer, else 0.
     */
    public int code() {
        if (error != null) {
            return error.code();
        }
        if (answered != null) {
            return answered.code();
        }
        if (forwarded != null && forwarded.status() >= 400) {
            return CoreErrors.ofBackendStatus(forwarded.status()).code();
        }
        return 0;
    }

    @Override
    public String toString() {
        return "BackendResult{code=" + code() + (error != null ? ", " + detail : "") + "}";
    }
}
