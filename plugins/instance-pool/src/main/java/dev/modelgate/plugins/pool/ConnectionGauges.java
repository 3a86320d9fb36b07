package dev.modelgate.plugins.pool;

import dev.modelgate.spi.PluginContext;
import java.util.Map;
import java.util.function.IntSupplier;

/**
 * The {@code modelgate_backend_connections{backend, state}} gauges of a remote backend's connection pools: leased (in
 * use), available (idle) and pending (calls waiting for one), whichever client keeps them.
 */
public final class ConnectionGauges {

    private ConnectionGauges() {
    }

    /** Exports the three gauges of the backend {@code context} builds. */
    public static void export(PluginContext context, IntSupplier leased, IntSupplier available, IntSupplier pending) {
        String backend = InstancePool.backendName(context);
        gauge(context, backend, "leased", leased);
        gauge(context, backend, "available", available);
        gauge(context, backend, "pending", pending);
    }

    private static void gauge(PluginContext context, String backend, String state, IntSupplier count) {
        context.metrics().gauge("modelgate_backend_connections",
                "Connections of the backend's pool, by state: leased (in use), available (idle), pending (awaited).",
                Map.of("backend", backend, "state", state), count::getAsInt);
    }
}
