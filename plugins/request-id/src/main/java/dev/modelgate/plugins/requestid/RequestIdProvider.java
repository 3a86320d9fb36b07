package dev.modelgate.plugins.requestid;

import dev.modelgate.spi.ConfigNode;
import dev.modelgate.spi.Middleware;
import dev.modelgate.spi.MiddlewareProvider;
import dev.modelgate.spi.PluginContext;
import java.util.regex.Pattern;

/**
 * The {@code request-id} middleware: gives every request an id, passed to the backend and returned to the client.
 *
 * <p>Config keys: {@code header} (default {@code X-Request-Id}) and {@code trust-incoming} (default {@code true}:
 * keep a well-formed id the client sent).
 */
public final class RequestIdProvider implements MiddlewareProvider {

    private static final String DEFAULT_HEADER = "X-Request-Id";

    /** An HTTP field name is a token (RFC 9110, section 5.1). */
    private static final Pattern FIELD_NAME = Pattern.compile("[!#$%&'*+.^_`|~0-9A-Za-z-]+");

    @Override
    public String type() {
        return "request-id";
    }

    @Override
    public Middleware create(ConfigNode config, PluginContext context) {
        String header = config.string("header", DEFAULT_HEADER);
        if (!FIELD_NAME.matcher(header).matches()) {
            config.problem("header", "must be an HTTP header name, but was '" + header + "'");
        }
        boolean trustIncoming = config.bool("trust-incoming", true);
        return new RequestIdMiddleware(header, trustIncoming);
    }
}
