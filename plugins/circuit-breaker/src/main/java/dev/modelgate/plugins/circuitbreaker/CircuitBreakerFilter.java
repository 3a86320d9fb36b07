package dev.modelgate.plugins.circuitbreaker;

import dev.modelgate.spi.Attribute;
import dev.modelgate.spi.BackendCall;
import dev.modelgate.spi.BackendResult;
import dev.modelgate.spi.CoreErrors;
import dev.modelgate.spi.Metrics;
import dev.modelgate.spi.PhasedFilter;
import dev.modelgate.spi.Response;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * Guards one backend with one circuit breaker, shared by every route to it. An open circuit answers at once with the
 * {@link Fallback}, without calling the rest of the backend's chain.
 *
 * <p>A call counts when its outcome is known: at once for an answer in memory or a failure, at the end of the body for
 * a forwarded answer that streams, so that a stream the backend breaks midway counts as a failure (see
 * {@link StreamVerdict}). Its slowness is always the time until the backend answered, so that a client reading a long
 * stream slowly does not make the backend look slow.
 *
 * <p>Phased: {@link #before} takes the permit (or answers with the fallback), {@link #after} records the outcome, or
 * hands it to the stream's {@link StreamVerdict}. Every {@code before} that took a permit is followed by one
 * {@code after}, whatever the rest of the chain did, so a half-open trial permit is always given back. A fallback
 * that calls another backend blocks, so the provider then hands the kernel this filter as a plain one.
 *
 * <p>Thread-safe: one instance serves every call to its backend.
 */
final class CircuitBreakerFilter implements PhasedFilter {

    private static final String STATE_METRIC = "modelgate_circuit_state";
    private static final String TRANSITIONS_METRIC = "modelgate_circuit_transitions_total";
    private static final String NOT_PERMITTED_METRIC = "modelgate_circuit_not_permitted_total";

    private final String backend;
    private final CircuitBreaker breaker;
    private final Fallback fallback;
    private final Metrics metrics;
    private final Metrics.Counter notPermitted;
    private final System.Logger logger;
    private final LongSupplier nanoClock;
    /** The permit {@link #before} took for the call, which {@link #after} gives back; this instance's own key. */
    private final Attribute<CircuitBreaker.Permit> heldPermit = Attribute.named("circuit-breaker-permit");

    /**
     * @param backend the name of the backend it guards, for metric labels and logs
     * @param nanoClock a monotonic nano clock ({@code System::nanoTime}; tests pass one they advance)
     */
    CircuitBreakerFilter(String backend, CircuitBreakerConfig config, Fallback fallback, Metrics metrics,
            System.Logger logger, LongSupplier nanoClock) {
        this.backend = backend;
        this.fallback = fallback;
        this.metrics = metrics;
        this.logger = logger;
        this.nanoClock = nanoClock;
        this.breaker = new CircuitBreaker(backend, config, nanoClock, this::onTransition);
        Map<String, String> labels = Map.of("backend", backend);
        metrics.gauge(STATE_METRIC, "Circuit state per backend: 0 closed, 1 open, 2 half-open.", labels,
                () -> breaker.currentState().gaugeValue());
        this.notPermitted = metrics.counter(NOT_PERMITTED_METRIC,
                "Calls an open or half-open circuit did not let through.", labels);
    }

    /** Whether its fallback, when the circuit refuses a call, calls another backend: that blocks. */
    boolean fallbackBlocks() {
        return fallback instanceof Fallback.AlternateBackend;
    }

    @Override
    public BackendResult before(BackendCall call) {
        return switch (breaker.tryAcquire()) {
            case CircuitBreaker.Permit permit -> {
                call.exchange().setAttribute(heldPermit, permit);
                yield null;
            }
            case CircuitBreaker.Denied denied -> {
                notPermitted.increment();
                yield fallback.answer(call, denied);
            }
        };
    }

    @Override
    public BackendResult after(BackendCall call, BackendResult result) {
        CircuitBreaker.Permit permit = call.exchange().attribute(heldPermit);
        // IGNORED unless a result says otherwise, so a half-open trial permit is given back whatever happens.
        CircuitBreaker.Outcome outcome = CircuitBreaker.Outcome.IGNORED;
        boolean judgedLater = false;
        try {
            outcome = outcomeOf(result.code());
            Response forwarded = result.forwardedResponse();
            if (forwarded != null && forwarded.body().length() < 0) {
                StreamVerdict verdict = new StreamVerdict(breaker, permit, outcome, nanoClock.getAsLong());
                call.exchange().onComplete(failure -> verdict.onComplete());
                judgedLater = true;
                return BackendResult.forwarded(new Response(forwarded.status(), forwarded.headers(),
                        verdict.watch(forwarded.body()), forwarded.code()));
            }
            return result;
        } finally {
            if (!judgedLater) {
                breaker.onResult(permit, outcome);
            }
        }
    }

    /**
     * How a result's code counts. Failures are the backend's: unreachable (40003), too slow (40004), failing with a
     * 5xx (40005), answering garbage (40007), too much (40011) or breaking its answer off (40012). A backend that answers, even to refuse the request with a 4xx (40006),
     * is healthy: success. Everything else did not test the backend and is ignored: rejections by the gateway itself
     * (1xxxx authentication, 2xxxx request validation, 3xxxx traffic control), the request's own deadline passing
     * before the call (40008) and internal errors (9xxxx).
     */
    static CircuitBreaker.Outcome outcomeOf(int code) {
        if (code == 0 || code == CoreErrors.BACKEND_REJECTED.code()) {
            return CircuitBreaker.Outcome.SUCCESS;
        }
        if (code == CoreErrors.BACKEND_UNAVAILABLE.code() || code == CoreErrors.BACKEND_TIMEOUT.code()
                || code == CoreErrors.BACKEND_ERROR.code() || code == CoreErrors.BACKEND_BAD_RESPONSE.code()
                || code == CoreErrors.BACKEND_RESPONSE_TOO_LARGE.code()
                || code == CoreErrors.BACKEND_ANSWER_BROKEN.code()) {
            return CircuitBreaker.Outcome.FAILURE;
        }
        return CircuitBreaker.Outcome.IGNORED;
    }

    private void onTransition(CircuitBreaker.Kind from, CircuitBreaker.Kind to, String reason) {
        metrics.counter(TRANSITIONS_METRIC, "Circuit state changes per backend.",
                Map.of("backend", backend, "from", from.label(), "to", to.label())).increment();
        logger.log(to == CircuitBreaker.Kind.OPEN ? System.Logger.Level.WARNING : System.Logger.Level.INFO,
                () -> "circuit of backend '" + backend + "' moved from " + from.label() + " to " + to.label() + ": "
                        + reason);
    }
}
