package dev.modelgate.spi;

import java.time.Clock;

/** What the kernel offers a plugin instance while it is built and while it runs. */
public interface PluginContext {

    /** Where this instance is configured, as a key path: {@code middlewares[1]}, {@code backends.tf-main}. */
    String name();

    Metrics metrics();

    /** The clock to read time from; tests inject a fixed or stepping one. */
    Clock clock();

    /** A logger named after the plugin type. */
    System.Logger logger();
}
