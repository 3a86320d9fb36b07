package dev.modelgate.kernel;

import dev.modelgate.spi.CoreErrors;
import dev.modelgate.spi.Response;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import java.util.function.BooleanSupplier;

/**
 * The admin listener: {@code /healthz} (the process is alive), {@code /readyz} (configuration loaded and not draining)
 * and {@code /metrics} (Prometheus text format). Bound to loopback unless configured otherwise.
 */
final class AdminHandler implements HttpHandler {

    private final MetricsRegistry metrics;
    private final BooleanSupplier ready;

    AdminHandler(MetricsRegistry metrics, BooleanSupplier ready) {
        this.metrics = metrics;
        this.ready = ready;
    }

    /** Answers on the IO thread: every answer here is computed in memory without blocking. */
    @Override
    public void handleRequest(HttpServerExchange http) {
        ResponseWriter.write(http, answer(http.getRequestMethod().toString(), http.getRequestPath()));
    }

    private Response answer(String method, String path) {
        if (!method.equals("GET") && !method.equals("HEAD")) {
            return RealExchange.errorResponse(CoreErrors.METHOD_NOT_ALLOWED, "use GET").withHeader("Allow", "GET");
        }
        return switch (path) {
            case "/healthz" -> json(200, "{\"status\":\"UP\"}");
            case "/readyz" -> ready.getAsBoolean() ? json(200, "{\"status\":\"READY\"}")
                    : json(503, "{\"status\":\"NOT_READY\"}");
            case "/metrics" -> Response.of(200, "text/plain; version=0.0.4; charset=utf-8",
                    metrics.scrape().getBytes(java.nio.charset.StandardCharsets.UTF_8));
            default -> RealExchange.errorResponse(CoreErrors.NO_SUCH_ENDPOINT, "'" + path + "'");
        };
    }

    private static Response json(int status, String body) {
        return Response.of(status, "application/json", body.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }
}
