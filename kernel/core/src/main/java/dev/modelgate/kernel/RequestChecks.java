package dev.modelgate.kernel;

import dev.modelgate.spi.CoreErrors;
import io.undertow.server.HttpServerExchange;

/**
 * Checks every request must pass before its route is even looked up: a path in normal form ({@link StrictHttp1} has
 * already checked the message itself and its limits). Routing and authentication then see exactly the path the client sent, so that {@code %2F}, {@code ..},
 * {@code ;} or {@code //} cannot make one path mean two routes.
 */
final class RequestChecks {

    /**
     * RFC 3986 path characters allowed in a segment: no percent-encoding (no model API path needs it) and no {@code ;}
     * (path parameters, which Undertow would drop before routing).
     */
    private static final boolean[] SEGMENT_CHARACTERS = new boolean[128];

    static {
        for (char c : "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._~!$&'()*+,=:@-".toCharArray()) {
            SEGMENT_CHARACTERS[c] = true;
        }
    }

    private RequestChecks() {
    }

    /** Why {@code http} is refused, or {@code null} when it may go on. */
    static Refusal refusal(HttpServerExchange http) {
        String path = rawPath(http);
        if (!isNormal(path)) {
            return new Refusal(CoreErrors.PATH_NOT_NORMAL,
                    "use plain segments, without '//', '.', '..', ';' or percent-encoding");
        }
        return null;
    }

    /**
     * Whether {@code path} is slash-separated segments of {@link #SEGMENT_CHARACTERS}, none empty (no {@code //})
     * but for one trailing slash, none {@code .} or {@code ..}. A loop, not a regular expression: it runs on every
     * request.
     */
    static boolean isNormal(String path) {
        int length = path.length();
        if (length == 0) {
            return true;
        }
        if (path.charAt(0) != '/') {
            return false;
        }
        for (int start = 1; start <= length; ) {
            int end = path.indexOf('/', start);
            if (end < 0) {
                end = length;
            }
            if (end == start) {
                return end == length; // an empty segment: only the trailing slash may make one
            }
            if (path.charAt(start) == '.' && (end - start == 1 || end - start == 2 && path.charAt(start + 1) == '.')) {
                return false;
            }
            for (int i = start; i < end; i++) {
                char c = path.charAt(i);
                if (c >= SEGMENT_CHARACTERS.length || !SEGMENT_CHARACTERS[c]) {
                    return false;
                }
            }
            start = end + 1;
        }
        return true;
    }

    /** The path as the client wrote it: not decoded, without scheme and host of an absolute-form request. */
    private static String rawPath(HttpServerExchange http) {
        String uri = http.getRequestURI();
        if (http.isHostIncludedInRequestURI()) {
            int start = uri.indexOf("://");
            int slash = start < 0 ? -1 : uri.indexOf('/', start + 3);
            return slash < 0 ? "/" : uri.substring(slash);
        }
        return uri;
    }
}
