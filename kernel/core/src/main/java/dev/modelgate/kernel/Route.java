package dev.modelgate.kernel;

import dev.modelgate.spi.Backend;
import dev.modelgate.spi.PhasedFilter;
import dev.modelgate.spi.PhasedMiddleware;
import dev.modelgate.spi.ProxyBackend;
import java.time.Duration;
import java.util.List;
import java.util.Set;

/**
 * One (model, API version) pair, the backend serving it and its whole pipeline, global middlewares first.
 *
 * @param filters the backend's own filters, shared with every route to it
 * @param timeout the route's deadline for a whole request, or {@code null} for none
 * @param idempotent whether a predict on this route may be retried
 * @param acceptsNonFinite whether the model takes NaN and infinite input values ({@code accepts-non-finite})
 * @param fronts the fronts that reach the route ({@code modelgate}, {@code tf-serving}, {@code kserve-v2}); empty for
 *     every front
 * @param label {@code model:version}, as metrics and logs name the route
 * @param servedWithoutBlocking whether a predict the proxy path takes can be served without a thread that may block:
 *     every middleware and backend filter phased, and a backend that forwards without blocking (known once, at build)
 */
record Route(String model, String version, String backendName, Backend backend, List<FilterStep> filters,
        List<Step> steps, Duration timeout, boolean idempotent, boolean acceptsNonFinite, Set<String> fronts,
        String label, boolean servedWithoutBlocking) {

    Route(String model, String version, String backendName, Backend backend, List<FilterStep> filters,
            List<Step> steps, Duration timeout, boolean idempotent, boolean acceptsNonFinite, Set<String> fronts) {
        this(model, version, backendName, backend, List.copyOf(filters), List.copyOf(steps), timeout, idempotent,
                acceptsNonFinite, Set.copyOf(fronts), model + ":" + version,
                servedWithoutBlocking(backend, filters, steps));
    }

    private static boolean servedWithoutBlocking(Backend backend, List<FilterStep> filters, List<Step> steps) {
        if (!(backend instanceof ProxyBackend proxy && proxy.forwardsAsync())) {
            return false;
        }
        for (Step step : steps) {
            if (!(step.middleware() instanceof PhasedMiddleware)) {
                return false;
            }
        }
        for (FilterStep filter : filters) {
            if (!(filter.filter() instanceof PhasedFilter)) {
                return false;
            }
        }
        return true;
    }

    boolean reachableFrom(Front front) {
        return fronts.isEmpty() || fronts.contains(front.dialect());
    }
}
