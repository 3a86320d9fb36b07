package dev.modelgate.plugins.csrf;

import dev.modelgate.spi.Exchange;
import dev.modelgate.spi.Headers;
import dev.modelgate.spi.PhasedMiddleware;
import dev.modelgate.spi.Response;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Checks the origin and the double-submitted token of unsafe, cookie-authenticated requests, before the rest of the
 * pipeline (phased, with nothing to do after). Thread-safe and immutable.
 */
final class CsrfMiddleware implements PhasedMiddleware {

    /** RFC 9110, section 9.2.1: methods that do not change state, so a forged one achieves nothing. */
    private static final Set<String> SAFE_METHODS = Set.of("GET", "HEAD", "OPTIONS", "TRACE");

    private final Set<String> trustedOrigins;
    private final String cookie;
    private final String header;
    private final String apiKeyHeader;

    CsrfMiddleware(Set<String> trustedOrigins, String cookie, String header, String apiKeyHeader) {
        this.trustedOrigins = Set.copyOf(trustedOrigins);
        this.cookie = cookie;
        this.header = header;
        this.apiKeyHeader = apiKeyHeader;
    }

    @Override
    public Response before(Exchange exchange) {
        Headers request = exchange.requestHeaders();
        if (SAFE_METHODS.contains(exchange.method()) || !isCookieAuthenticated(request)) {
            return null;
        }
        String origin = requestOrigin(request);
        if (origin == null) {
            return exchange.error(CsrfProvider.UNTRUSTED_ORIGIN, "the request names no Origin or Referer");
        }
        if (!trustedOrigins.contains(origin)) {
            return exchange.error(CsrfProvider.UNTRUSTED_ORIGIN, null);
        }
        if (!tokensMatch(request)) {
            return exchange.error(CsrfProvider.BAD_TOKEN, "send the value of the " + cookie + " cookie in "
                    + header);
        }
        return null;
    }

    /**
     * Whether the browser may have attached the credentials by itself: cookies it does, a bearer token or an API key
     * only a script can, and a cross-origin script only after a CORS preflight the gateway approved.
     */
    private boolean isCookieAuthenticated(Headers request) {
        if (!request.contains("Cookie") || request.contains(apiKeyHeader)) {
            return false;
        }
        for (String authorization : request.all("Authorization")) {
            if (authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
                return false;
            }
        }
        return true;
    }

    /** The origin the request came from: {@code Origin}, or when absent the origin of {@code Referer}. */
    private static String requestOrigin(Headers request) {
        List<String> origins = request.all("Origin");
        if (origins.size() > 1) {
            return null;
        }
        if (origins.size() == 1) {
            // "null" (a sandboxed or privacy-sensitive context) is no URL, so it comes back null: never trusted.
            return originOf(origins.getFirst());
        }
        List<String> referers = request.all("Referer");
        return referers.size() == 1 ? originOf(referers.getFirst()) : null;
    }

    /**
     * The origin of an http or https {@code url} (lower-case scheme and host, the port only when not the scheme's
     * default), or {@code null} when {@code url} is not such a URL.
     */
    static String originOf(String url) {
        URI uri;
        try {
            uri = new URI(url.strip());
        } catch (URISyntaxException e) {
            return null;
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        int defaultPort = switch (scheme) {
            case "https" -> 443;
            case "http" -> 80;
            default -> 0;
        };
        if (defaultPort == 0 || uri.getHost() == null || uri.getRawUserInfo() != null) {
            return null;
        }
        int port = uri.getPort();
        String host = uri.getHost().toLowerCase(Locale.ROOT);
        return scheme + "://" + host + (port == -1 || port == defaultPort ? "" : ":" + port);
    }

    /**
     * Whether the token cookie, sent once, equals the token header, sent once, and is not empty. A page on another
     * site cannot read the cookie, so it cannot copy it into the header. Compared in constant time.
     */
    private boolean tokensMatch(Headers request) {
        List<String> cookieValues = cookieValues(request.all("Cookie"));
        List<String> headerValues = request.all(header);
        if (cookieValues.size() != 1 || headerValues.size() != 1 || cookieValues.getFirst().isEmpty()) {
            // Two cookies of one name can be one planted by a sibling subdomain: which one is meant is unknown.
            return false;
        }
        return MessageDigest.isEqual(cookieValues.getFirst().getBytes(StandardCharsets.UTF_8),
                headerValues.getFirst().strip().getBytes(StandardCharsets.UTF_8));
    }

    /** Every value of the token cookie across the {@code Cookie} headers ({@code a=1; b=2}, RFC 6265 section 5.4). */
    private List<String> cookieValues(List<String> cookieHeaders) {
        List<String> values = new ArrayList<>(1);
        for (String cookieHeader : cookieHeaders) {
            for (String pair : cookieHeader.split(";")) {
                int equals = pair.indexOf('=');
                if (equals > 0 && pair.substring(0, equals).strip().equals(cookie)) {
                    values.add(unquote(pair.substring(equals + 1).strip()));
                }
            }
        }
        return values;
    }

    private static String unquote(String value) {
        return value.length() >= 2 && value.startsWith("\"") && value.endsWith("\"")
                ? value.substring(1, value.length() - 1) : value;
    }
}
