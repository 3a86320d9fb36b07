package dev.modelgate.kernel;

import dev.modelgate.spi.Backend;
import java.util.List;

/**
 * One (model, API version) pair, the backend serving it and its whole pipeline, global middlewares first.
 *
 * @param label {@code model:version}, as metrics and logs name the route
 */
record Route(String model, String version, String backendName, Backend backend, List<Step> steps, String label) {

    Route(String model, String version, String backendName, Backend backend, List<Step> steps) {
        this(model, version, backendName, backend, List.copyOf(steps), model + ":" + version);
    }
}
