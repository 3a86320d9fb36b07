package dev.modelgate.spi;

import java.util.Set;

/**
 * One entry of the gateway's error catalogue: a five-digit code {@code {domain}{type}{seq}} with exactly one HTTP
 * status and one gRPC status.
 *
 * <p>Domains: 1 authentication and authorisation, 2 request validation, 3 traffic control, 4 model and backend,
 * 9 internal. Code 0 means success and is never an {@code ErrorCode}. Plugins declare their codes through
 * {@link PluginProvider#errorCodes()}; the kernel refuses to start when two declarations share a code.
 *
 * @param code the five-digit code
 * @param httpStatus the HTTP status every response with this code carries
 * @param grpcStatus the name of the gRPC status code ({@code INVALID_ARGUMENT}, {@code UNAVAILABLE}, ...)
 * @param summary a short, client-safe sentence; responses may add detail after it
 */
public record ErrorCode(int code, int httpStatus, String grpcStatus, String summary) {

    private static final Set<Integer> DOMAINS = Set.of(1, 2, 3, 4, 9);
    private static final Set<String> GRPC_STATUSES = Set.of(
            "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS",
            "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE",
            "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED");

    public ErrorCode {
        if (code < 10000 || code > 99999 || !DOMAINS.contains(code / 10000)) {
            throw new IllegalArgumentException(
                    "error code must have five digits and start with a domain digit 1, 2, 3, 4 or 9, but was " + code);
        }
        if (httpStatus < 400 || httpStatus > 599) {
            throw new IllegalArgumentException(
                    "error code " + code + ": HTTP status must be between 400 and 599, but was " + httpStatus);
        }
        if (!GRPC_STATUSES.contains(grpcStatus)) {
            throw new IllegalArgumentException("error code " + code + ": unknown gRPC status '" + grpcStatus + "'");
        }
        if (summary == null || summary.isBlank()) {
            throw new IllegalArgumentException("error code " + code + ": summary must not be blank");
        }
    }

    /** The code's domain digit: 1, 2, 3, 4 or 9. */
    public int domain() {
        return code / 10000;
    }
}
