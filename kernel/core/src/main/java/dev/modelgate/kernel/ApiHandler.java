package dev.modelgate.kernel;

import dev.modelgate.spi.CoreErrors;
import dev.modelgate.spi.Operation;
import dev.modelgate.spi.Response;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.HeaderMap;
import io.undertow.util.Headers;
import io.undertow.util.HttpString;
import java.io.IOException;
import java.io.OutputStream;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executor;
import java.util.function.Supplier;

/**
 * The API listener's root handler. Moves each request off the IO thread onto a virtual thread, resolves its route,
 * runs the route's pipeline and writes the response. Requests that match no route still pass the global middlewares,
 * so that authentication answers before an unknown model is revealed and every request is logged.
 */
final class ApiHandler implements HttpHandler {

    private static final System.Logger LOG = System.getLogger(ApiHandler.class.getName());
    private static final ApiPath NO_API_PATH = new ApiPath(null, null, null);

    private final Supplier<Deployment> deployment;
    private final MetricsRegistry metrics;
    private final Executor requestExecutor;
    private final InFlightRequests inFlight;

    ApiHandler(Supplier<Deployment> deployment, MetricsRegistry metrics, Executor requestExecutor,
            InFlightRequests inFlight) {
        this.deployment = deployment;
        this.metrics = metrics;
        this.requestExecutor = requestExecutor;
        this.inFlight = inFlight;
    }

    @Override
    public void handleRequest(HttpServerExchange http) {
        if (http.isInIoThread()) {
            http.dispatch(requestExecutor, this);
            return;
        }
        if (!inFlight.enter()) {
            http.setPersistent(false);
            send(http, RealExchange.errorResponse(CoreErrors.SHUTTING_DOWN, "retry on another instance"));
            return;
        }
        try {
            serve(http);
        } finally {
            inFlight.exit();
        }
    }

    private void serve(HttpServerExchange http) {
        long start = System.nanoTime();
        Deployment current = deployment.get();
        ApiPath apiPath = ApiPath.parse(http.getRequestPath());
        String version = apiPath == null ? "v1" : apiPath.version(http.getRequestHeaders().getFirst(Headers.ACCEPT));
        Route route = null;
        RealChain.Terminal terminal;
        if (apiPath == null) {
            terminal = exchange -> exchange.error(CoreErrors.NO_SUCH_ENDPOINT, "'" + exchange.path() + "'");
        } else if (!apiPath.method().equals(http.getRequestMethod().toString())) {
            terminal = exchange -> exchange.error(CoreErrors.METHOD_NOT_ALLOWED, "use " + apiPath.method())
                    .withHeader("Allow", apiPath.method());
        } else if (!current.apiVersions().contains(version)) {
            terminal = exchange -> exchange.error(CoreErrors.UNSUPPORTED_API_VERSION,
                    "'" + version + "'; this gateway serves " + String.join(", ", current.apiVersions()));
        } else if (apiPath.operation() == Operation.LIST_MODELS) {
            terminal = exchange -> ModelApi.listModels(current);
        } else {
            Map<String, Route> versions = current.routes().get(apiPath.model());
            route = versions == null ? null : versions.get(version);
            terminal = route != null ? terminal(route)
                    : versions == null ? exchange -> exchange.error(CoreErrors.UNKNOWN_MODEL,
                            "'" + apiPath.model() + "'")
                    : exchange -> exchange.error(CoreErrors.UNKNOWN_MODEL_VERSION, "'" + apiPath.model()
                            + "' is served on " + String.join(", ", versions.keySet()) + ", not " + version);
        }
        List<Step> steps = route != null ? route.steps() : current.globalSteps();
        String backendName = route != null ? route.backendName() : null;
        RealExchange exchange = new RealExchange(http, apiPath == null ? NO_API_PATH : apiPath, version, backendName,
                start, current.server().maxBodyBytes());
        Response response = RealChain.run(steps, exchange, terminal);
        send(http, response);
        metrics.recordRequest(route != null ? route.label() : "-", backendName, response.status(),
                System.nanoTime() - start);
    }

    private static RealChain.Terminal terminal(Route route) {
        return exchange -> exchange.operation() == Operation.PREDICT
                ? ModelApi.predict(route, exchange) : ModelApi.describe(route);
    }

    /** Writes {@code response}; a client that went away is only worth a debug line. */
    static void send(HttpServerExchange http, Response response) {
        http.setStatusCode(response.status());
        HeaderMap headers = http.getResponseHeaders();
        response.forEachHeader((name, value) -> headers.add(HttpString.tryFromString(name), value));
        long length = response.body().length();
        if (length >= 0) {
            headers.put(Headers.CONTENT_LENGTH, length);
        }
        if (!http.isBlocking()) {
            http.startBlocking();
        }
        try (OutputStream out = http.getOutputStream()) {
            response.body().writeTo(out);
        } catch (IOException e) {
            LOG.log(System.Logger.Level.DEBUG, () -> "writing the response failed: " + e);
        }
    }
}
