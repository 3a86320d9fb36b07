package dev.modelgate.plugins.pool;

import dev.modelgate.spi.PluginContext;
import dev.modelgate.spi.upstream.UpstreamPool;
import java.util.Arrays;
import java.util.Map;
import java.util.function.IntSupplier;
import java.util.function.ToIntFunction;

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

    /** Exports the three gauges of the backend {@code context} builds as sums over its upstream {@code pools}. */
    public static void export(PluginContext context, UpstreamPool[] pools) {
        export(context, total(pools, UpstreamPool::leased), total(pools, UpstreamPool::available),
                total(pools, UpstreamPool::pending));
    }

    private static IntSupplier total(UpstreamPool[] pools, ToIntFunction<UpstreamPool> count) {
        return () -> Arrays.stream(pools).mapToInt(count).sum();
    }

    private static void gauge(PluginContext context, String backend, String state, IntSupplier count) {
        context.metrics().gauge("modelgate_backend_connections",
                "Connections of the backend's pool, by state: leased (in use), available (idle), pending (awaited).",
                Map.of("backend", backend, "state", state), count::getAsInt);
    }
}
