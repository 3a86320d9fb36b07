package dev.modelgate.kernel;

import dev.modelgate.spi.CoreErrors;
import dev.modelgate.spi.Headers;
import dev.modelgate.spi.Operation;
import dev.modelgate.spi.ProxyBackend;
import dev.modelgate.spi.Response;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;

/**
 * Routes a call and runs its pipeline: what the API listener and the listener fronts share, so that a call passes
 * the same middlewares, filters and backend whichever listener it came in on.
 *
 * <p>Calls that match no route (unknown path or model) still pass the global middlewares, so that authentication
 * answers before an unknown model is revealed and every call is logged.
 */
final class Dispatcher {

    private Dispatcher() {
    }

    /**
     * Where a call goes.
     *
     * @param route the route whose pipeline runs, or {@code null} for the global middlewares alone
     * @param terminal what the pipeline ends in
     */
    record Target(Route route, RealChain.Terminal terminal) {

        java.time.Duration timeout() {
            return route == null ? null : route.timeout();
        }
    }

    /**
     * The route and terminal of {@code call} ({@code null} when the path names nothing), taken with {@code method}
     * on {@code path}; a call refused before routing ends in its {@code refusal} after the global middlewares.
     */
    static Target target(Deployment current, MetricsRegistry metrics, FrontCall call, Front front, String method,
            String path, Refusal refusal) {
        if (refusal != null) {
            return global(exchange -> exchange.error(refusal.errorCode(), refusal.detail()));
        }
        if (call == null || call.operation() == Operation.OTHER) {
            return global(exchange -> exchange.error(CoreErrors.NO_SUCH_ENDPOINT, "'" + path + "'"));
        }
        if (!call.method().equals(method) && !(method.equals("HEAD") && call.method().equals("GET"))) {
            return global(exchange -> exchange.error(CoreErrors.METHOD_NOT_ALLOWED, "use " + call.method())
                    .withHeader("Allow", call.method()));
        }
        if (call.apiVersion() != null && !current.apiVersions().contains(call.apiVersion())) {
            return global(exchange -> exchange.error(CoreErrors.UNSUPPORTED_API_VERSION,
                    ApiPath.quoted(call.apiVersion()) + "; this gateway serves "
                            + String.join(", ", current.apiVersions())));
        }
        if (call.model() == null) {
            return global(exchange -> front.serveServer(call, current, exchange));
        }
        Map<String, Route> versions = current.routes().get(call.model());
        Route route = versions == null ? null
                : call.apiVersion() != null ? versions.get(call.apiVersion())
                : versions.values().iterator().next();
        if (route != null && !route.reachableFrom(front)) {
            return global(exchange -> exchange.error(CoreErrors.FRONT_NOT_ALLOWED,
                    "'" + call.model() + "' is not served on " + front.dialect()));
        }
        if (route != null) {
            return new Target(route, terminal(route, call, current.codecs(), metrics));
        }
        if (versions == null) {
            return global(exchange -> exchange.error(CoreErrors.UNKNOWN_MODEL, ApiPath.quoted(call.model())));
        }
        return global(exchange -> exchange.error(CoreErrors.UNKNOWN_MODEL_VERSION, "'" + call.model()
                + "' is served on " + String.join(", ", versions.keySet()) + ", not " + call.apiVersion()));
    }

    private static Target global(RealChain.Terminal terminal) {
        return new Target(null, terminal);
    }

    private static RealChain.Terminal terminal(Route route, FrontCall call, Codecs codecs, MetricsRegistry metrics) {
        return exchange -> call.operation() == Operation.PREDICT
                ? Predictor.predict(route.backendName(), route.backend(), route.filters(), (RealExchange) exchange,
                        codecs, metrics)
                : call.front().describe(call, route, exchange, codecs, metrics);
    }

    /**
     * The exchange {@code target}'s pipeline runs over, for a call of {@code transport}.
     *
     * @param headers the request headers the pipeline sees, owned by the exchange from now on
     */
    static RealExchange exchange(Deployment current, Transport transport, Headers headers, FrontCall call,
            Front front, Target target, Deadline deadline, RequestBody body, long start) {
        Route route = target.route();
        String backendName = route != null ? route.backendName() : null;
        boolean idempotent = transport.method().equals("GET") || route != null && route.idempotent();
        String apiVersion = route != null ? route.version() : call != null && call.apiVersion() != null
                ? call.apiVersion() : "v1";
        return new RealExchange(transport, headers, call, front, apiVersion, backendName, start,
                deadline.nanos(), idempotent, route != null && route.acceptsNonFinite(), body,
                current.server().maxBodyBytes(), current.server().clientAddress());
    }

    /**
     * Runs {@code target}'s pipeline over {@code exchange}, blocking until its answer, and records the call in the
     * metrics under {@code protocol}; never throws.
     */
    static Response run(Deployment current, MetricsRegistry metrics, String protocol, RealExchange exchange,
            Target target, Deadline deadline) {
        RealChain.Terminal terminal = target.terminal();
        if (deadline.invalid()) {
            terminal = ignored -> exchange.error(CoreErrors.INVALID_REQUEST_TIMEOUT, Deadline.FORMAT);
        }
        List<Step> steps = target.route() != null ? target.route().steps() : current.globalSteps();
        return recorded(metrics, protocol, target.route(), exchange, RealChain.run(steps, exchange, terminal));
    }

    /**
     * Runs {@code target}'s pipeline over {@code exchange} without blocking, when it can: a predict the proxy path
     * takes, on a route whose middlewares and backend filters are all phased, to a backend that forwards without
     * blocking. The stage completes with the answer (recorded as {@link #run} records it) and never fails.
     *
     * @param blockingWork threads that may block, for what an answer that streams needs (see
     *     {@link Predictor#forwardWithoutBlocking})
     * @return {@code null} when the pipeline needs a thread that may block: run it with {@link #run}
     */
    static CompletionStage<Response> runWithoutBlocking(MetricsRegistry metrics, String protocol,
            RealExchange exchange, Target target, Deadline deadline, Executor blockingWork) {
        Route route = target.route();
        if (route == null || deadline.invalid() || exchange.operation() != Operation.PREDICT
                || !route.servedWithoutBlocking()) {
            return null;
        }
        String mediaType = Predictor.mediaType(exchange);
        if (!Predictor.forwards(route.backend(), route.filters(), exchange, mediaType,
                exchange.requestHeaders().first("Accept"))) {
            return null;
        }
        List<Step> steps = route.steps();
        return Phases.around(steps.size(), i -> RealChain.phases(steps.get(i), exchange),
                () -> Predictor.forwardWithoutBlocking(route.backendName(), (ProxyBackend) route.backend(),
                        route.filters(), exchange, mediaType, metrics, blockingWork))
                .thenApply(response -> recorded(metrics, protocol, route, exchange, response));
    }

    private static Response recorded(MetricsRegistry metrics, String protocol, Route route, RealExchange exchange,
            Response response) {
        metrics.recordRequest(protocol, route != null ? route.label() : "-", exchange.backendName(),
                response.status(), response.code(), System.nanoTime() - exchange.startNanos());
        return response;
    }
}
