package dev.modelgate.plugins.circuitbreaker;

import dev.modelgate.spi.Chain;
import dev.modelgate.spi.CoreErrors;
import dev.modelgate.spi.Exchange;
import dev.modelgate.spi.Metrics;
import dev.modelgate.spi.Middleware;
import dev.modelgate.spi.Operation;
import dev.modelgate.spi.Response;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.function.LongSupplier;

/**
 * Guards each backend that its requests reach with a circuit breaker of its own, made on the backend's first predict
 * request. An open circuit answers at once with the {@link Fallback}, without calling the rest of the pipeline.
 * Requests that reach no backend, and operations other than predict (which do not call the backend), pass through
 * unrecorded.
 *
 * <p>Thread-safe: one instance serves every request of the routes it is configured on.
 */
final class CircuitBreakerMiddleware implements Middleware {

    private static final String STATE_METRIC = "modelgate_circuit_state";
    private static final String TRANSITIONS_METRIC = "modelgate_circuit_transitions_total";
    private static final String NOT_PERMITTED_METRIC = "modelgate_circuit_not_permitted_total";

    /** A backend's breaker and the counter of the calls it refused. */
    private record Guard(CircuitBreaker breaker, Metrics.Counter notPermitted) {
    }

    private final CircuitBreakerConfig config;
    private final Fallback fallback;
    private final Metrics metrics;
    private final System.Logger logger;
    private final LongSupplier nanoClock;
    private final ConcurrentMap<String, Guard> guards = new ConcurrentHashMap<>();

    CircuitBreakerMiddleware(CircuitBreakerConfig config, Fallback fallback, Metrics metrics, System.Logger logger,
            LongSupplier nanoClock) {
        this.config = config;
        this.fallback = fallback;
        this.metrics = metrics;
        this.logger = logger;
        this.nanoClock = nanoClock;
    }

    @Override
    public Response handle(Exchange exchange, Chain chain) {
        String backend = exchange.backendName();
        if (backend == null || exchange.operation() != Operation.PREDICT) {
            return chain.proceed();
        }
        // Backend names come from the configuration, so this map holds at most one entry per configured backend.
        Guard guard = guards.computeIfAbsent(backend, this::guard);
        return switch (guard.breaker().tryAcquire()) {
            case CircuitBreaker.Permit permit -> call(guard.breaker(), permit, chain);
            case CircuitBreaker.Denied denied -> {
                guard.notPermitted().increment();
                yield fallback.answer(exchange, backend, denied);
            }
        };
    }

    private static Response call(CircuitBreaker breaker, CircuitBreaker.Permit permit, Chain chain) {
        // IGNORED unless a response says otherwise, so a half-open trial permit is given back whatever happens.
        CircuitBreaker.Outcome outcome = CircuitBreaker.Outcome.IGNORED;
        try {
            Response response = chain.proceed();
            outcome = outcomeOf(response.code());
            return response;
        } finally {
            breaker.onResult(permit, outcome);
        }
    }

    /**
     * How a response's code counts. Failures are the backend's: unreachable (40003), too slow (40004), failing with a
     * 5xx (40005) or answering garbage (40007). A backend that answers, even to refuse the request with a 4xx (40006),
     * is healthy: success. Everything else did not test the backend and is ignored: rejections by the gateway itself
     * (1xxxx authentication, 2xxxx request validation, 3xxxx traffic control), the request's own deadline passing
     * before the call (40008) and internal errors (9xxxx).
     */
    static CircuitBreaker.Outcome outcomeOf(int code) {
        if (code == 0 || code == CoreErrors.BACKEND_REJECTED.code()) {
            return CircuitBreaker.Outcome.SUCCESS;
        }
        if (code == CoreErrors.BACKEND_UNAVAILABLE.code() || code == CoreErrors.BACKEND_TIMEOUT.code()
                || code == CoreErrors.BACKEND_ERROR.code() || code == CoreErrors.BACKEND_BAD_RESPONSE.code()) {
            return CircuitBreaker.Outcome.FAILURE;
        }
        return CircuitBreaker.Outcome.IGNORED;
    }

    private Guard guard(String backend) {
        Map<String, String> labels = Map.of("backend", backend);
        CircuitBreaker breaker = new CircuitBreaker(backend, config, nanoClock,
                (from, to, reason) -> onTransition(backend, from, to, reason));
        metrics.gauge(STATE_METRIC, "Circuit state per backend: 0 closed, 1 open, 2 half-open.", labels,
                () -> breaker.currentState().gaugeValue());
        return new Guard(breaker, metrics.counter(NOT_PERMITTED_METRIC,
                "Calls an open or half-open circuit did not let through.", labels));
    }

    private void onTransition(String backend, CircuitBreaker.Kind from, CircuitBreaker.Kind to, String reason) {
        metrics.counter(TRANSITIONS_METRIC, "Circuit state changes per backend.",
                Map.of("backend", backend, "from", from.label(), "to", to.label())).increment();
        logger.log(to == CircuitBreaker.Kind.OPEN ? System.Logger.Level.WARNING : System.Logger.Level.INFO,
                () -> "circuit of backend '" + backend + "' moved from " + from.label() + " to " + to.label() + ": "
                        + reason);
    }
}
