package dev.modelgate.plugins.cors;

import dev.modelgate.spi.ConfigNode;
import dev.modelgate.spi.Middleware;
import dev.modelgate.spi.MiddlewareProvider;
import dev.modelgate.spi.PluginContext;

/**
 * The {@code cors} middleware: lets browser pages on listed origins call the API.
 *
 * <pre>
 * middlewares:
 *   - type: cors                 # first, and among the global middlewares: see below
 *     origins: [https://app.example.com]   # exact origins, or [*] for any (not with credentials)
 *     methods: [GET, POST]       # default
 *     headers: [Content-Type, Authorization, X-API-Key, X-Request-Id]   # request headers allowed; default
 *     expose-headers: [X-Request-Id]        # response headers scripts may read; default
 *     credentials: false         # default; true lets pages send cookies and read the response
 *     max-age: 10m               # how long browsers may cache a preflight answer; default
 * </pre>
 *
 * <p>The gateway answers preflight requests itself, without calling the rest of the pipeline. The kernel runs only
 * the global middlewares for an {@code OPTIONS} request, as it matches no route, so {@code cors} must be listed among
 * them, and first, so that no authentication rejects a preflight (browsers send no credentials with it).
 *
 * <p>It never rejects: a request from an origin not listed, or a preflight asking for a method or header not
 * allowed, gets no CORS headers, and the browser then withholds the response from the page.
 */
public final class CorsProvider implements MiddlewareProvider {

    @Override
    public String type() {
        return "cors";
    }

    @Override
    public Middleware create(ConfigNode config, PluginContext context) {
        return new CorsMiddleware(CorsSettings.from(config));
    }
}
