package dev.modelgate.kernel;

import dev.modelgate.spi.Metrics;
import dev.modelgate.spi.PluginContext;
import java.time.Clock;

/** The kernel's {@link PluginContext}: one per configured plugin instance. */
record RealPluginContext(String name, Metrics metrics, Clock clock, System.Logger logger) implements PluginContext {
}
