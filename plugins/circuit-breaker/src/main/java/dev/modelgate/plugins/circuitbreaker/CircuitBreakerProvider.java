package dev.modelgate.plugins.circuitbreaker;

import dev.modelgate.spi.BackendFilter;
import dev.modelgate.spi.BackendFilterProvider;
import dev.modelgate.spi.ConfigNode;
import dev.modelgate.spi.ErrorCode;
import dev.modelgate.spi.PluginContext;
import java.time.Duration;
import java.util.List;
import java.util.function.LongSupplier;

/**
 * The {@code circuit-breaker} backend filter, listed in {@code backends.NAME.filters}: one circuit for the backend,
 * closed, open or half-open, as resilience4j's, shared by every route to it.
 *
 * <p>Config keys, with {@link CircuitBreakerConfig}'s defaults: {@code window-type} ({@code count} or {@code time}),
 * {@code window-size} (calls, or a whole number of seconds such as {@code 30s}), {@code minimum-calls},
 * {@code failure-rate-threshold} and {@code slow-call-rate-threshold} (percent, 1 to 100),
 * {@code slow-call-duration}, {@code wait-in-open}, {@code permitted-calls-in-half-open},
 * {@code max-wait-in-half-open} (absent: no limit) and {@code fallback}, what a refused call gets instead:
 * <ul>
 *   <li>absent: 503 with code 30201 and {@code Retry-After};
 *   <li>{@code response: {status: 200, body: {...}}}: that status (2xx) and {@code body}, a JSON object, as if the
 *       backend had answered it; on the gateway's API, the success envelope with {@code body} as {@code data} (see
 *       {@link Fallback.StaticResponse} for the other fronts);
 *   <li>{@code backend: NAME}: the request served by that other configured backend.
 * </ul>
 *
 * <p>Exports {@code modelgate_circuit_state{backend}} (0 closed, 1 open, 2 half-open),
 * {@code modelgate_circuit_transitions_total{backend,from,to}} and
 * {@code modelgate_circuit_not_permitted_total{backend}}, and logs every state change.
 */
public final class CircuitBreakerProvider implements BackendFilterProvider {

    public static final ErrorCode CIRCUIT_OPEN = new ErrorCode(30201, 503, "UNAVAILABLE", "circuit open");

    @Override
    public String type() {
        return "circuit-breaker";
    }

    @Override
    public List<ErrorCode> errorCodes() {
        return List.of(CIRCUIT_OPEN);
    }

    @Override
    public BackendFilter create(ConfigNode config, PluginContext context) {
        return create(config, context, System::nanoTime);
    }

    /** The filter, on {@code nanoClock}: tests pass one they step, so an open wait never runs out under load. */
    static BackendFilter create(ConfigNode config, PluginContext context, LongSupplier nanoClock) {
        String backend = BackendFilterProvider.backendName(context);
        CircuitBreakerConfig settings = settings(config);
        Fallback fallback = fallback(config, context, backend);
        CircuitBreakerFilter filter =
                new CircuitBreakerFilter(backend, settings, fallback, context.metrics(), context.logger(), nanoClock);
        // The same filter, not phased, so the kernel never runs a fallback call to another backend on an IO thread.
        return filter.fallbackBlocks() ? filter::filter : filter;
    }

    /** Reads every setting into the builder, reporting each value it refuses under the value's key. */
    static CircuitBreakerConfig settings(ConfigNode config) {
        CircuitBreakerConfig.Builder builder = CircuitBreakerConfig.builder();
        String windowType = config.string("window-type", "count");
        switch (windowType) {
            case "count" -> apply(config, () -> builder.countWindow(
                    integer(config, "window-size", CircuitBreakerConfig.DEFAULT_COUNT_WINDOW_SIZE)));
            case "time" -> apply(config, () -> builder.timeWindow(
                    config.duration("window-size", CircuitBreakerConfig.DEFAULT_TIME_WINDOW_SIZE)));
            default -> {
                config.problem("window-type", "must be count or time, but was '" + windowType + "'");
                config.string("window-size", null); // read, so that it is not also reported as unknown
            }
        }
        if (config.has("minimum-calls")) {
            apply(config, () -> builder.minimumCalls(integer(config, "minimum-calls", 0)));
        }
        apply(config, () -> builder.failureRateThreshold(integer(config, "failure-rate-threshold",
                CircuitBreakerConfig.DEFAULT_FAILURE_RATE_THRESHOLD)));
        apply(config, () -> builder.slowCallRateThreshold(integer(config, "slow-call-rate-threshold",
                CircuitBreakerConfig.DEFAULT_SLOW_CALL_RATE_THRESHOLD)));
        apply(config, () -> builder.slowCallDuration(config.duration("slow-call-duration",
                CircuitBreakerConfig.DEFAULT_SLOW_CALL_DURATION)));
        apply(config, () -> builder.waitInOpen(config.duration("wait-in-open",
                CircuitBreakerConfig.DEFAULT_WAIT_IN_OPEN)));
        apply(config, () -> builder.permittedCallsInHalfOpen(integer(config, "permitted-calls-in-half-open",
                CircuitBreakerConfig.DEFAULT_PERMITTED_CALLS_IN_HALF_OPEN)));
        apply(config, () -> builder.maxWaitInHalfOpen(config.duration("max-wait-in-half-open", Duration.ZERO)));
        try {
            return builder.build();
        } catch (CircuitBreakerConfig.InvalidValueException e) {
            config.problem(e.key(), e.reason());
            return CircuitBreakerConfig.ofDefaults();
        }
    }

    /** An integer whose range the builder checks, so the message is the builder's. */
    private static int integer(ConfigNode config, String key, int defaultValue) {
        return config.integer(key, defaultValue, Integer.MIN_VALUE, Integer.MAX_VALUE);
    }

    private static void apply(ConfigNode config, Runnable setter) {
        try {
            setter.run();
        } catch (CircuitBreakerConfig.InvalidValueException e) {
            config.problem(e.key(), e.reason());
        }
    }

    private static Fallback fallback(ConfigNode config, PluginContext context, String guarded) {
        Fallback reject = new Fallback.Reject(CIRCUIT_OPEN);
        if (!config.has("fallback")) {
            return reject;
        }
        ConfigNode fallback = config.child("fallback");
        boolean response = fallback.has("response");
        boolean backend = fallback.has("backend");
        if (response == backend) {
            fallback.problem(response ? "give either 'response' or 'backend', not both"
                    : "needs 'response' (a fixed answer) or 'backend' (another backend's name)");
            fallback.raw();
            return reject;
        }
        if (response) {
            ConfigNode answer = fallback.child("response");
            int status = answer.integer("status", 200, 200, 299);
            if (!answer.has("body")) {
                answer.problem("body", "is required: the JSON object answered as the envelope's data");
            }
            // child() reports a body that is not a mapping: the gateway's API wraps only a JSON object as data.
            return Fallback.StaticResponse.of(status, answer.child("body").raw());
        }
        String name = fallback.string("backend");
        if (name.isEmpty()) {
            return reject;
        }
        if (name.equals(guarded)) {
            fallback.problem("backend", "backend '" + name + "' cannot be its own fallback");
            return reject;
        }
        return context.backend(name)
                .<Fallback>map(call -> new Fallback.AlternateBackend(name, call))
                .orElseGet(() -> {
                    fallback.problem("backend", "unknown backend '" + name + "'");
                    return reject;
                });
    }
}
