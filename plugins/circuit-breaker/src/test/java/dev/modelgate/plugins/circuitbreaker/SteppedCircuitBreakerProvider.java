package dev.modelgate.plugins.circuitbreaker;

import dev.modelgate.spi.BackendFilter;
import dev.modelgate.spi.BackendFilterProvider;
import dev.modelgate.spi.ConfigNode;
import dev.modelgate.spi.PluginContext;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Test filter {@code stepped-circuit-breaker}: the {@code circuit-breaker} filter with the same settings, on a clock
 * that moves only when a test {@link #step}s it, so that a gateway test decides when an open wait is over however
 * slowly a loaded machine runs it.
 */
public final class SteppedCircuitBreakerProvider implements BackendFilterProvider {

    private static final AtomicLong NANOS = new AtomicLong();

    /** Moves every stepped circuit's clock {@code by} forward. */
    public static void step(Duration by) {
        NANOS.addAndGet(by.toNanos());
    }

    @Override
    public String type() {
        return "stepped-circuit-breaker";
    }

    @Override
    public BackendFilter create(ConfigNode config, PluginContext context) {
        return CircuitBreakerProvider.create(config, context, NANOS::get);
    }
}
