package dev.modelgate.spi;

import java.util.Map;
import java.util.function.DoubleSupplier;

/**
 * The gateway's metrics registry, exported in Prometheus text format on the admin listener. Names are Prometheus
 * metric names ({@code modelgate_access_log_dropped_total}); asking twice for the same name and labels returns the
 * same counter. Thread-safe.
 */
public interface Metrics {

    /** A monotonically increasing count. */
    interface Counter {
        void increment();

        void add(long amount);

        long value();
    }

    Counter counter(String name, String help, Map<String, String> labels);

    /** A value read from {@code value} at each scrape. */
    void gauge(String name, String help, Map<String, String> labels, DoubleSupplier value);
}
