package dev.modelgate.plugins.openai;

import dev.modelgate.spi.ErrorCode;
import java.util.List;

/** The {@code openai} backend's error codes. */
final class OpenAiErrors {

    static final ErrorCode NO_MODEL = new ErrorCode(20050, 400, "INVALID_ARGUMENT",
            "the request body names no model");
    static final ErrorCode NOT_AN_OBJECT = new ErrorCode(20051, 400, "INVALID_ARGUMENT",
            "the request body is not a JSON object");
    static final ErrorCode UNKNOWN_MODEL = new ErrorCode(40040, 404, "NOT_FOUND", "no upstream serves this model");
    static final ErrorCode UPSTREAM_NOT_JSON = new ErrorCode(40041, 502, "INTERNAL",
            "the upstream answered neither JSON nor server-sent events");
    static final ErrorCode STREAM_BROKEN = new ErrorCode(40042, 502, "INTERNAL", "the upstream's stream broke midway");
    static final ErrorCode STREAM_STALLED = new ErrorCode(40043, 504, "DEADLINE_EXCEEDED",
            "the upstream's stream stalled midway");

    static final List<ErrorCode> ALL = List.of(NO_MODEL, NOT_AN_OBJECT, UNKNOWN_MODEL, UPSTREAM_NOT_JSON,
            STREAM_BROKEN, STREAM_STALLED);

    private OpenAiErrors() {
    }
}
