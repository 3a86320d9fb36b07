package dev.modelgate.plugins.csrf;

import dev.modelgate.spi.ConfigNode;
import dev.modelgate.spi.ErrorCode;
import dev.modelgate.spi.Middleware;
import dev.modelgate.spi.MiddlewareProvider;
import dev.modelgate.spi.PluginContext;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The {@code csrf} middleware: protects cookie-authenticated requests from cross-site request forgery. It
 * authenticates nobody; it refuses state-changing requests a browser could have sent on another site's behalf.
 *
 * <pre>
 * - type: csrf
 *   trusted-origins: [https://app.example.com]   # required: the origins whose pages may send such requests
 *   cookie: modelgate_csrf        # default: the cookie holding the token
 *   header: X-CSRF-Token          # default: the header the page copies the token into
 *   api-key-header: X-API-Key     # default: a request with this header is not cookie-authenticated
 * </pre>
 *
 * <p>A request is cookie-authenticated when it carries a {@code Cookie} header and neither an
 * {@code Authorization: Bearer} token nor an API key: browsers attach cookies to cross-site requests by themselves,
 * but never those headers. Such a request with an unsafe method (anything but GET, HEAD, OPTIONS and TRACE) must
 * come from a trusted origin, by {@code Origin} or else the origin of {@code Referer} (403, {@link #UNTRUSTED_ORIGIN}),
 * and must repeat the token cookie's value in the token header, the double-submit pattern (403,
 * {@link #BAD_TOKEN}). List it before the middlewares that authenticate.
 */
public final class CsrfProvider implements MiddlewareProvider {

    public static final ErrorCode UNTRUSTED_ORIGIN =
            new ErrorCode(10401, 403, "PERMISSION_DENIED", "request origin is not trusted");
    public static final ErrorCode BAD_TOKEN =
            new ErrorCode(10402, 403, "PERMISSION_DENIED", "missing or mismatched CSRF token");

    /** An HTTP field name, and a cookie name, is a token (RFC 9110, section 5.1; RFC 6265, section 4.1.1). */
    private static final Pattern TOKEN = Pattern.compile("[!#$%&'*+.^_`|~0-9A-Za-z-]+");

    @Override
    public String type() {
        return "csrf";
    }

    @Override
    public List<ErrorCode> errorCodes() {
        return List.of(UNTRUSTED_ORIGIN, BAD_TOKEN);
    }

    @Override
    public Middleware create(ConfigNode config, PluginContext context) {
        Set<String> trustedOrigins = trustedOrigins(config);
        String cookie = token(config, "cookie", "modelgate_csrf");
        String header = token(config, "header", "X-CSRF-Token");
        String apiKeyHeader = token(config, "api-key-header", "X-API-Key");
        return new CsrfMiddleware(trustedOrigins, cookie, header, apiKeyHeader);
    }

    private static Set<String> trustedOrigins(ConfigNode config) {
        List<String> configured = config.strings("trusted-origins");
        if (configured.isEmpty()) {
            config.problem("trusted-origins", "at least one origin is required, such as https://app.example.com");
        }
        Set<String> origins = new LinkedHashSet<>();
        for (String value : configured) {
            String origin = CsrfMiddleware.originOf(value);
            // An origin is its own origin; anything with a path, a wildcard or no scheme is not.
            if (origin == null || !origin.equals(value.toLowerCase(Locale.ROOT))) {
                config.problem("trusted-origins", "'" + value + "' is not an origin: write scheme, host and "
                        + "optional port, such as https://app.example.com, with no path");
            } else {
                origins.add(origin);
            }
        }
        return origins;
    }

    private static String token(ConfigNode config, String key, String defaultValue) {
        String value = config.string(key, defaultValue);
        if (!TOKEN.matcher(value).matches()) {
            config.problem(key, "must be a name without spaces or separators, but was '" + value + "'");
        }
        return value;
    }
}
