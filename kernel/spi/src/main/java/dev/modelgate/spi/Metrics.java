package dev.modelgate.spi;

import java.util.Map;
import java.util.function.DoubleSupplier;

/**
 * The gateway's metrics registry, exported on the admin listener in the Prometheus text format (or OpenMetrics).
 * Names are Prometheus metric names ({@code modelgate_access_log_dropped_total}; a counter's ends in {@code _total});
 * every member of a name has the same label names, else registering it throws {@link IllegalArgumentException}.
 * Asking twice for the same name and labels returns the same counter. Thread-safe. The kernel keeps these with the
 * Prometheus Java client, but no Prometheus type is part of the SPI.
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

    /** Observations counted into fixed buckets, so that the series of every replica add up. */
    interface Histogram {
        void observe(double value);
    }

    /**
     * The histogram {@code name} with {@code labels}, counting observations into buckets with these upper bounds
     * (ascending; an infinite bucket is added). Every member of a name must have the same bounds; a name of seconds
     * ends in {@code _seconds}.
     */
    Histogram histogram(String name, String help, Map<String, String> labels, double... upperBounds);
}
