package dev.modelgate.plugins.grpcfront;

import dev.modelgate.spi.ConfigNode;
import dev.modelgate.spi.Middleware;
import dev.modelgate.spi.MiddlewareProvider;
import dev.modelgate.spi.PluginContext;

/**
 * Test middleware {@code deadline-probe}: tells in the {@code x-deadline-ms} answer header how many milliseconds the
 * request had left when it passed ({@code none} without a deadline), so that tests see the deadline a call gets.
 */
public final class DeadlineProbeProvider implements MiddlewareProvider {

    @Override
    public String type() {
        return "deadline-probe";
    }

    @Override
    public Middleware create(ConfigNode config, PluginContext context) {
        return (exchange, chain) -> {
            long deadline = exchange.deadlineNanos();
            String left = deadline == Long.MAX_VALUE ? "none"
                    : Long.toString((deadline - System.nanoTime()) / 1_000_000);
            return chain.proceed().withHeader("x-deadline-ms", left);
        };
    }
}
