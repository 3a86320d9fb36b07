package dev.modelgate.kernel;

import dev.modelgate.spi.CoreErrors;
import dev.modelgate.spi.Operation;
import dev.modelgate.spi.Response;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.Headers;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executor;
import java.util.function.Supplier;

/**
 * The API listener's root handler. Undertow I/O stays on the IO threads: the body is read there without blocking,
 * the pipeline then runs on a virtual thread, and the response goes back to the IO thread to be written. (Finishing
 * an exchange off the IO thread makes Undertow's read listener spin until it may resume reading, and its buffer pool
 * caches buffers per thread, which a new virtual thread per request never hits.)
 *
 * <p>Requests that match no route still pass the global middlewares, so that authentication answers before an
 * unknown model is revealed and every request is logged.
 */
final class ApiHandler implements HttpHandler {

    private static final System.Logger LOG = System.getLogger(ApiHandler.class.getName());
    private static final ApiPath NO_API_PATH = new ApiPath(Operation.OTHER, null, null);
    private static final RequestBody UNREAD = new RequestBody(new byte[0], null);

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

    /** Runs on an IO thread: admits the request, reads its body, hands it to a virtual thread. */
    @Override
    public void handleRequest(HttpServerExchange http) {
        long start = System.nanoTime();
        if (!inFlight.enter()) {
            http.setPersistent(false);
            ResponseWriter.write(http, RealExchange.errorResponse(CoreErrors.SHUTTING_DOWN,
                    "retry on another instance"));
            return;
        }
        http.addExchangeCompleteListener((exchange, next) -> {
            inFlight.exit();
            next.proceed();
        });
        Deployment current = deployment.get();
        Response rejection = RequestChecks.rejection(http, current.server().maxHeaderBytes());
        if (rejection != null) {
            // Not worth reading the body of, but still logged and authenticated like any request.
            http.dispatch(requestExecutor, () -> serveSafely(http, current, UNREAD, rejection, start));
            return;
        }
        RequestBody.read(http, current.server().maxBodyBytes(), current.server().bodyTimeout(),
                body -> http.dispatch(requestExecutor, () -> serveSafely(http, current, body, null, start)));
    }

    /** {@link #serve}, with the guarantee that the exchange ends: a kernel bug must not leave a client hanging. */
    private void serveSafely(HttpServerExchange http, Deployment current, RequestBody body, Response rejection,
            long start) {
        try {
            serve(http, current, body, rejection, start);
        } catch (Throwable e) {
            if (e instanceof VirtualMachineError && !(e instanceof StackOverflowError)) {
                throw e;
            }
            LOG.log(System.Logger.Level.ERROR, "serving " + http.getRequestMethod() + " " + http.getRequestPath()
                    + " failed", e);
            ResponseWriter.write(http, RealExchange.errorResponse(CoreErrors.INTERNAL, null));
        }
    }

    /**
     * Runs on the request's virtual thread. A request that failed {@link RequestChecks} is not routed: it passes the
     * global middlewares and ends in its {@code rejection}.
     */
    private void serve(HttpServerExchange http, Deployment current, RequestBody body, Response rejection,
            long start) {
        ApiPath apiPath = rejection == null ? ApiPath.parse(http.getRequestPath()) : null;
        String version = apiPath == null ? "v1" : apiPath.version(http.getRequestHeaders().getFirst(Headers.ACCEPT));
        Route route = null;
        RealChain.Terminal terminal;
        if (rejection != null) {
            terminal = exchange -> rejection;
        } else if (apiPath == null) {
            terminal = exchange -> exchange.error(CoreErrors.NO_SUCH_ENDPOINT, "'" + exchange.path() + "'");
        } else if (!apiPath.method().equals(http.getRequestMethod().toString())) {
            terminal = exchange -> exchange.error(CoreErrors.METHOD_NOT_ALLOWED, "use " + apiPath.method())
                    .withHeader("Allow", apiPath.method());
        } else if (!current.apiVersions().contains(version)) {
            terminal = exchange -> exchange.error(CoreErrors.UNSUPPORTED_API_VERSION,
                    "'" + version + "'; this gateway serves " + String.join(", ", current.apiVersions()));
        } else if (apiPath.operation() == Operation.LIST_MODELS) {
            terminal = exchange -> ModelApi.listModels(current, version);
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
        Deadline deadline = Deadline.of(start, route == null ? null : route.timeout(),
                http.getRequestHeaders().getFirst(Deadline.HEADER));
        if (deadline.invalid()) {
            terminal = exchange -> exchange.error(CoreErrors.INVALID_REQUEST_TIMEOUT, Deadline.FORMAT);
        }
        boolean idempotent = http.getRequestMethod().toString().equals("GET") || route != null && route.idempotent();
        RealExchange exchange = new RealExchange(http, apiPath == null ? NO_API_PATH : apiPath, version, backendName,
                start, deadline.nanos(), idempotent, body);
        Response response = RealChain.run(steps, exchange, terminal);
        metrics.recordRequest(route != null ? route.label() : "-", backendName, response.status(),
                System.nanoTime() - start);
        ResponseWriter.write(http, response);
    }

    private static RealChain.Terminal terminal(Route route) {
        return exchange -> exchange.operation() == Operation.PREDICT
                ? ModelApi.predict(route.backendName(), route.backend(), exchange) : ModelApi.describe(route);
    }
}
