package dev.modelgate.plugins.cors;

import dev.modelgate.spi.ConfigNode;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The validated configuration of one {@code cors} middleware.
 *
 * @param origins the allowed origins, lower-case, as browsers send them; empty when {@code anyOrigin}
 * @param anyOrigin whether every origin is allowed ({@code origins: [*]}); never together with {@code credentials}
 * @param methods the allowed methods, upper-case, in configured order
 * @param headers the allowed request headers, in configured order
 * @param exposeHeaders the response headers scripts may read
 * @param credentials whether pages may send cookies and HTTP authentication and read the response
 * @param maxAge how long a browser may cache a preflight answer
 */
record CorsSettings(
        Set<String> origins,
        boolean anyOrigin,
        List<String> methods,
        List<String> headers,
        List<String> exposeHeaders,
        boolean credentials,
        Duration maxAge) {

    static final List<String> DEFAULT_METHODS = List.of("GET", "POST");
    static final List<String> DEFAULT_HEADERS = List.of("Content-Type", "Authorization", "X-API-Key", "X-Request-Id");
    static final List<String> DEFAULT_EXPOSE_HEADERS = List.of("X-Request-Id");
    static final Duration DEFAULT_MAX_AGE = Duration.ofMinutes(10);

    private static final String ANY = "*";

    /** A serialised origin: scheme, host and an optional port; no path, not even {@code /}. */
    private static final Pattern ORIGIN = Pattern.compile("https?://([a-z0-9.-]+|\\[[0-9a-f:.]+])(:[0-9]{1,5})?");

    /** An HTTP method or field name is a token (RFC 9110, sections 5.1 and 9.1). */
    private static final Pattern TOKEN = Pattern.compile("[!#$%&'*+.^_`|~0-9A-Za-z-]+");

    CorsSettings {
        origins = Set.copyOf(origins);
        methods = List.copyOf(methods);
        headers = List.copyOf(headers);
        exposeHeaders = List.copyOf(exposeHeaders);
    }

    /** Reads and validates {@code config}, reporting each bad value by key. */
    static CorsSettings from(ConfigNode config) {
        List<String> configured = config.strings("origins");
        if (configured.isEmpty()) {
            config.problem("origins", "at least one origin is required, such as https://app.example.com, or '*'");
        }
        boolean anyOrigin = configured.contains(ANY);
        if (anyOrigin && configured.size() > 1) {
            config.problem("origins", "'*' allows every origin, so it must be the only entry");
        }
        Set<String> origins = new LinkedHashSet<>();
        for (String origin : configured) {
            if (origin.equals(ANY)) {
                continue;
            }
            // Scheme and host are case-insensitive, and browsers send them in lower case.
            String normalised = origin.strip().toLowerCase(Locale.ROOT);
            if (!ORIGIN.matcher(normalised).matches()) {
                config.problem("origins", "'" + origin + "' is not an origin: write scheme, host and optional port, "
                        + "such as https://app.example.com, with no path");
            } else {
                origins.add(normalised);
            }
        }
        List<String> methods = tokens(config, "methods", DEFAULT_METHODS).stream()
                .map(method -> method.toUpperCase(Locale.ROOT))
                .toList();
        List<String> headers = tokens(config, "headers", DEFAULT_HEADERS);
        List<String> exposeHeaders = tokens(config, "expose-headers", DEFAULT_EXPOSE_HEADERS);
        boolean credentials = config.bool("credentials", false);
        if (anyOrigin && credentials) {
            // Browsers refuse '*' with credentials; echoing any origin instead would hand every site the user's
            // session.
            config.problem("origins", "'*' cannot be combined with credentials: true; list the trusted origins");
        }
        Duration maxAge = config.duration("max-age", DEFAULT_MAX_AGE);
        if (maxAge.toSeconds() < 1) {
            config.problem("max-age", "must be at least 1s, as it is sent in seconds, but was " + maxAge.toMillis()
                    + "ms");
        }
        return new CorsSettings(origins, anyOrigin, methods, headers, exposeHeaders, credentials, maxAge);
    }

    private static List<String> tokens(ConfigNode config, String key, List<String> defaults) {
        if (!config.has(key)) {
            return defaults;
        }
        List<String> values = config.strings(key);
        for (String value : values) {
            if (!TOKEN.matcher(value).matches()) {
                config.problem(key, "'" + value + "' is not an HTTP token");
            }
        }
        return values;
    }
}
