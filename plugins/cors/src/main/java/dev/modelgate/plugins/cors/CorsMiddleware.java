package dev.modelgate.plugins.cors;

import dev.modelgate.spi.Attribute;
import dev.modelgate.spi.Body;
import dev.modelgate.spi.Exchange;
import dev.modelgate.spi.Headers;
import dev.modelgate.spi.PhasedMiddleware;
import dev.modelgate.spi.Response;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Answers preflight requests and adds CORS headers to the responses of allowed origins. Phased: the origin is judged
 * before the rest of the pipeline and the headers added after. Thread-safe: immutable, with every header value
 * computed once from the settings.
 */
final class CorsMiddleware implements PhasedMiddleware {

    /**
     * What {@code Access-Control-Allow-Origin} says to this request, judged by {@link #before} on the headers the client
     * sent; absent when the origin is not allowed. This instance's own key.
     */
    private final Attribute<String> allowOrigin = Attribute.named("cors-allow-origin");

    private final CorsSettings settings;
    private final Set<String> allowedMethods;
    private final Set<String> allowedHeaders;
    private final String allowMethods;
    private final String allowHeaders;
    private final String exposeHeaders;
    private final String maxAgeSeconds;

    CorsMiddleware(CorsSettings settings) {
        this.settings = settings;
        this.allowedMethods = Set.copyOf(settings.methods());
        this.allowedHeaders = settings.headers().stream()
                .map(name -> name.toLowerCase(Locale.ROOT))
                .collect(Collectors.toUnmodifiableSet());
        this.allowMethods = String.join(", ", settings.methods());
        this.allowHeaders = String.join(", ", settings.headers());
        this.exposeHeaders = String.join(", ", settings.exposeHeaders());
        this.maxAgeSeconds = Long.toString(settings.maxAge().toSeconds());
    }

    @Override
    public Response before(Exchange exchange) {
        Headers request = exchange.requestHeaders();
        String origin = allowedOrigin(request.all("Origin"));
        List<String> requestedMethod = request.all("Access-Control-Request-Method");
        if (exchange.method().equals("OPTIONS") && request.contains("Origin") && !requestedMethod.isEmpty()) {
            return preflight(origin, requestedMethod, request.all("Access-Control-Request-Headers"));
        }
        exchange.setAttribute(allowOrigin, origin);
        return null;
    }

    @Override
    public Response after(Exchange exchange, Response answer) {
        Response response = vary(answer);
        String origin = exchange.attribute(allowOrigin);
        if (origin == null) {
            return response;
        }
        response = withOrigin(response, origin);
        return exposeHeaders.isEmpty() ? response : response.withHeader("Access-Control-Expose-Headers", exposeHeaders);
    }

    /**
     * The answer to a preflight, which the gateway gives itself: the model API has no {@code OPTIONS} of its own. A
     * refusal is the same answer without the allow headers; the browser then does not send the actual request.
     */
    private Response preflight(String origin, List<String> requestedMethod, List<String> requestedHeaders) {
        Response response = new Response(204, new Headers().set("Vary", "Origin"), Body.EMPTY, 0);
        if (origin == null || requestedMethod.size() > 1 || !allowedMethods.contains(requestedMethod.getFirst())
                || !headersAllowed(requestedHeaders)) {
            return response;
        }
        return withOrigin(response, origin)
                .withHeader("Access-Control-Allow-Methods", allowMethods)
                .withHeader("Access-Control-Allow-Headers", allowHeaders)
                .withHeader("Access-Control-Max-Age", maxAgeSeconds);
    }

    private Response withOrigin(Response response, String origin) {
        Response allowed = response.withHeader("Access-Control-Allow-Origin", origin);
        return settings.credentials() ? allowed.withHeader("Access-Control-Allow-Credentials", "true") : allowed;
    }

    /**
     * What {@code Access-Control-Allow-Origin} says to this request, or {@code null} when the origin is not allowed.
     * Never {@code *} with credentials: the settings refuse that combination.
     */
    private String allowedOrigin(List<String> origins) {
        if (origins.size() != 1) {
            return null;
        }
        if (settings.anyOrigin()) {
            return "*";
        }
        String origin = origins.getFirst();
        return settings.origins().contains(origin) ? origin : null;
    }

    /** Whether every header named in {@code Access-Control-Request-Headers} (a comma-separated list) is allowed. */
    private boolean headersAllowed(List<String> requestedHeaders) {
        for (String list : requestedHeaders) {
            for (String name : list.split(",")) {
                String trimmed = name.strip();
                if (!trimmed.isEmpty() && !allowedHeaders.contains(trimmed.toLowerCase(Locale.ROOT))) {
                    return false;
                }
            }
        }
        return true;
    }

    /**
     * Adds {@code Origin} to {@code Vary} on every response: whether CORS headers are present depends on the request's
     * origin, so a shared cache must not serve one origin's answer to another.
     */
    private static Response vary(Response response) {
        String vary = response.header("Vary");
        if (vary == null) {
            return response.withHeader("Vary", "Origin");
        }
        for (String field : vary.split(",")) {
            String name = field.strip();
            if (name.equals("*") || name.equalsIgnoreCase("Origin")) {
                return response;
            }
        }
        return response.withHeader("Vary", vary + ", Origin");
    }
}
