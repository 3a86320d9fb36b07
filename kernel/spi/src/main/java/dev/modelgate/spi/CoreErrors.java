package dev.modelgate.spi;

import java.util.List;

/**
 * The kernel's own error codes. Plugins reuse them where the meaning fits (a backend adapter reporting an input that
 * does not match the model's signature answers {@link #INPUT_MISMATCH}) and declare their own codes otherwise.
 */
public final class CoreErrors {

    public static final ErrorCode ADMIN_UNAUTHENTICATED =
            new ErrorCode(10001, 401, "UNAUTHENTICATED", "admin credentials required");
    public static final ErrorCode ADMIN_DISABLED = new ErrorCode(10002, 403, "PERMISSION_DENIED",
            "admin endpoints are disabled: configure admin.token or admin.middlewares");
    /** A reload whose new configuration or plugins do not build: nothing changed. */
    public static final ErrorCode RELOAD_REFUSED = new ErrorCode(90101, 422, "FAILED_PRECONDITION",
            "reload refused, the running configuration keeps serving");
    public static final ErrorCode MALFORMED_JSON = new ErrorCode(20001, 400, "INVALID_ARGUMENT", "malformed JSON body");
    public static final ErrorCode UNSUPPORTED_MEDIA_TYPE =
            new ErrorCode(20002, 415, "INVALID_ARGUMENT", "unsupported content type");
    public static final ErrorCode BODY_TOO_LARGE =
            new ErrorCode(20003, 413, "RESOURCE_EXHAUSTED", "request body too large");
    public static final ErrorCode NO_SUCH_ENDPOINT = new ErrorCode(20004, 404, "UNIMPLEMENTED", "no such endpoint");
    public static final ErrorCode METHOD_NOT_ALLOWED =
            new ErrorCode(20005, 405, "UNIMPLEMENTED", "method not allowed on this endpoint");
    public static final ErrorCode INVALID_PREDICT_REQUEST =
            new ErrorCode(20006, 400, "INVALID_ARGUMENT", "invalid predict request");
    public static final ErrorCode INPUT_MISMATCH =
            new ErrorCode(20007, 400, "INVALID_ARGUMENT", "input does not match the model's signature");
    public static final ErrorCode UNSUPPORTED_API_VERSION =
            new ErrorCode(20008, 406, "INVALID_ARGUMENT", "unsupported API version");
    public static final ErrorCode UNREADABLE_BODY =
            new ErrorCode(20009, 400, "INVALID_ARGUMENT", "request body could not be read");
    public static final ErrorCode PATH_NOT_NORMAL =
            new ErrorCode(20010, 400, "INVALID_ARGUMENT", "the request path is not in normal form");
    public static final ErrorCode HEADERS_TOO_LARGE =
            new ErrorCode(20011, 431, "RESOURCE_EXHAUSTED", "request headers too large");
    public static final ErrorCode INVALID_REQUEST_TIMEOUT =
            new ErrorCode(20012, 400, "INVALID_ARGUMENT", "invalid X-Request-Timeout");
    public static final ErrorCode BODY_TIMEOUT =
            new ErrorCode(20013, 408, "DEADLINE_EXCEEDED", "request body not received in time");
    public static final ErrorCode TENSOR_SHAPE_MISMATCH =
            new ErrorCode(20014, 400, "INVALID_ARGUMENT", "tensor shape and data disagree");
    public static final ErrorCode UNKNOWN_DATA_TYPE =
            new ErrorCode(20015, 400, "INVALID_ARGUMENT", "unknown tensor data type");
    public static final ErrorCode INVALID_TENSOR_VALUE =
            new ErrorCode(20016, 400, "INVALID_ARGUMENT", "tensor value does not fit its data type");
    public static final ErrorCode MALFORMED_BODY =
            new ErrorCode(20017, 400, "INVALID_ARGUMENT", "request body cannot be decoded");
    public static final ErrorCode NOT_ACCEPTABLE =
            new ErrorCode(20018, 406, "INVALID_ARGUMENT", "cannot answer in an accepted media type");
    public static final ErrorCode MALFORMED_GZIP =
            new ErrorCode(20019, 400, "INVALID_ARGUMENT", "compressed request body is malformed");
    public static final ErrorCode UNSUPPORTED_CONTENT_ENCODING =
            new ErrorCode(20020, 415, "INVALID_ARGUMENT", "unsupported content encoding");
    public static final ErrorCode INVALID_FRAMING = new ErrorCode(20021, 400, "INVALID_ARGUMENT",
            "the request's message framing is invalid");
    public static final ErrorCode UNSUPPORTED_TRANSFER_CODING =
            new ErrorCode(20022, 501, "UNIMPLEMENTED", "unsupported transfer coding");
    public static final ErrorCode INVALID_HEADER =
            new ErrorCode(20023, 400, "INVALID_ARGUMENT", "invalid request header line");
    public static final ErrorCode INVALID_HOST = new ErrorCode(20024, 400, "INVALID_ARGUMENT", "invalid Host header");
    public static final ErrorCode INVALID_REQUEST_LINE =
            new ErrorCode(20025, 400, "INVALID_ARGUMENT", "invalid request line");
    public static final ErrorCode HTTP_VERSION_NOT_SUPPORTED =
            new ErrorCode(20026, 505, "UNIMPLEMENTED", "HTTP version not supported");
    public static final ErrorCode URI_TOO_LONG =
            new ErrorCode(20027, 414, "RESOURCE_EXHAUSTED", "request target too long");
    public static final ErrorCode TOO_MANY_HEADERS =
            new ErrorCode(20028, 431, "RESOURCE_EXHAUSTED", "too many request header fields");
    public static final ErrorCode INFLATED_BODY_TOO_LARGE =
            new ErrorCode(20029, 413, "RESOURCE_EXHAUSTED", "request body too large once inflated");
    public static final ErrorCode NON_FINITE_INPUT =
            new ErrorCode(20040, 400, "INVALID_ARGUMENT", "tensor value is NaN or infinite");
    public static final ErrorCode SHUTTING_DOWN =
            new ErrorCode(30001, 503, "UNAVAILABLE", "gateway is shutting down");
    public static final ErrorCode UNKNOWN_MODEL = new ErrorCode(40001, 404, "NOT_FOUND", "unknown model");
    public static final ErrorCode UNKNOWN_MODEL_VERSION =
            new ErrorCode(40002, 404, "NOT_FOUND", "model has no route for this API version");
    public static final ErrorCode BACKEND_UNAVAILABLE =
            new ErrorCode(40003, 503, "UNAVAILABLE", "backend unavailable");
    public static final ErrorCode BACKEND_TIMEOUT =
            new ErrorCode(40004, 504, "DEADLINE_EXCEEDED", "backend timed out");
    public static final ErrorCode BACKEND_ERROR = new ErrorCode(40005, 502, "INTERNAL", "backend failed");
    public static final ErrorCode BACKEND_REJECTED =
            new ErrorCode(40006, 400, "INVALID_ARGUMENT", "backend rejected the request");
    public static final ErrorCode BACKEND_BAD_RESPONSE =
            new ErrorCode(40007, 502, "INTERNAL", "backend sent a response the gateway cannot read");
    public static final ErrorCode DEADLINE_EXCEEDED =
            new ErrorCode(40008, 504, "DEADLINE_EXCEEDED", "the request's deadline passed");
    public static final ErrorCode OPERATION_UNSUPPORTED = new ErrorCode(40009, 501, "UNIMPLEMENTED",
            "the backend's protocol does not support this call");
    public static final ErrorCode FRONT_NOT_ALLOWED =
            new ErrorCode(40010, 404, "NOT_FOUND", "model is not served on this protocol");
    public static final ErrorCode BACKEND_RESPONSE_TOO_LARGE = new ErrorCode(40011, 502, "RESOURCE_EXHAUSTED",
            "backend answer larger than max-response-size");
    public static final ErrorCode BACKEND_ANSWER_BROKEN = new ErrorCode(40012, 502, "INTERNAL",
            "backend broke off its answer after the request reached it");
    public static final ErrorCode INTERNAL = new ErrorCode(90001, 500, "INTERNAL", "internal error");
    public static final ErrorCode MIDDLEWARE_CONTRACT =
            new ErrorCode(90002, 500, "INTERNAL", "a middleware broke the pipeline contract");

    /** Every code above, in catalogue order. */
    public static final List<ErrorCode> ALL = List.of(
            ADMIN_UNAUTHENTICATED, ADMIN_DISABLED, RELOAD_REFUSED,
            MALFORMED_JSON, UNSUPPORTED_MEDIA_TYPE, BODY_TOO_LARGE, NO_SUCH_ENDPOINT, METHOD_NOT_ALLOWED,
            INVALID_PREDICT_REQUEST, INPUT_MISMATCH, UNSUPPORTED_API_VERSION, UNREADABLE_BODY, PATH_NOT_NORMAL,
            HEADERS_TOO_LARGE, INVALID_REQUEST_TIMEOUT, BODY_TIMEOUT, TENSOR_SHAPE_MISMATCH, UNKNOWN_DATA_TYPE,
            INVALID_TENSOR_VALUE, MALFORMED_BODY, NOT_ACCEPTABLE, MALFORMED_GZIP, UNSUPPORTED_CONTENT_ENCODING,
            INVALID_FRAMING, UNSUPPORTED_TRANSFER_CODING, INVALID_HEADER, INVALID_HOST, INVALID_REQUEST_LINE,
            HTTP_VERSION_NOT_SUPPORTED, URI_TOO_LONG, TOO_MANY_HEADERS, INFLATED_BODY_TOO_LARGE,
            NON_FINITE_INPUT,
            SHUTTING_DOWN,
            UNKNOWN_MODEL, UNKNOWN_MODEL_VERSION, BACKEND_UNAVAILABLE, BACKEND_TIMEOUT, BACKEND_ERROR,
            BACKEND_REJECTED, BACKEND_BAD_RESPONSE, DEADLINE_EXCEEDED, OPERATION_UNSUPPORTED, FRONT_NOT_ALLOWED,
            BACKEND_RESPONSE_TOO_LARGE, BACKEND_ANSWER_BROKEN,
            INTERNAL, MIDDLEWARE_CONTRACT);

    /**
     * The code of a backend's refusal, by its HTTP status: a 4xx is the request's fault ({@link #BACKEND_REJECTED}),
     * anything else the backend's ({@link #BACKEND_ERROR}).
     */
    public static ErrorCode ofBackendStatus(int status) {
        return status >= 400 && status < 500 ? BACKEND_REJECTED : BACKEND_ERROR;
    }

    private CoreErrors() {
    }
}
