package dev.modelgate.kernel;

import dev.modelgate.spi.Backend;
import java.time.Duration;
import java.util.List;

/**
 * One (model, API version) pair, the backend serving it and its whole pipeline, global middlewares first.
 *
 * @param timeout the route's deadline for a whole request, or {@code null} for none
 * @param idempotent whether a predict on this route may be retried
 * @param label {@code model:version}, as metrics and logs name the route
 */
record Route(String model, String version, String backendName, Backend backend, List<Step> steps,
        Duration timeout, boolean idempotent, String label) {

    Route(String model, String version, String backendName, Backend backend, List<Step> steps, Duration timeout,
            boolean idempotent) {
        this(model, version, backendName, backend, List.copyOf(steps), timeout, idempotent, model + ":" + version);
    }
}
