package dev.modelgate.kernel;

import dev.modelgate.spi.CoreErrors;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.HeaderValues;
import java.util.regex.Pattern;

/**
 * Checks every request must pass before its route is even looked up: headers within the limit, and a path in normal
 * form. Routing and authentication then see exactly the path the client sent, so that {@code %2F}, {@code ..},
 * {@code ;} or {@code //} cannot make one path mean two routes.
 */
final class RequestChecks {

    /**
     * Slash-separated segments of RFC 3986 path characters, without percent-encoding (no model API path needs it)
     * and without {@code ;} (path parameters, which Undertow would drop before routing).
     */
    private static final Pattern NORMAL_PATH = Pattern.compile("(/[A-Za-z0-9._~!$&'()*+,=:@-]+)*/?");
    private static final Pattern DOT_SEGMENT = Pattern.compile("(^|/)\\.{1,2}(/|$)");

    private RequestChecks() {
    }

    /** Why {@code http} is refused, or {@code null} when it may go on. */
    static Refusal refusal(HttpServerExchange http, int maxHeaderBytes) {
        if (headerBytes(http) > maxHeaderBytes) {
            return new Refusal(CoreErrors.HEADERS_TOO_LARGE, "the limit is " + maxHeaderBytes + " bytes");
        }
        String path = rawPath(http);
        if (!NORMAL_PATH.matcher(path).matches() || DOT_SEGMENT.matcher(path).find()) {
            return new Refusal(CoreErrors.PATH_NOT_NORMAL,
                    "use plain segments, without '//', '.', '..', ';' or percent-encoding");
        }
        return null;
    }

    /** The request line and header block, as sent give or take the spaces. */
    private static long headerBytes(HttpServerExchange http) {
        long bytes = http.getRequestMethod().length() + http.getRequestURI().length()
                + http.getQueryString().length() + http.getProtocol().length() + 4;
        for (HeaderValues values : http.getRequestHeaders()) {
            int name = values.getHeaderName().length() + 4;
            for (String value : values) {
                bytes += name + value.length();
            }
        }
        return bytes;
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
