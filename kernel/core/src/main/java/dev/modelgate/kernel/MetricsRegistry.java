package dev.modelgate.kernel;

import dev.modelgate.spi.Metrics;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.DoubleSupplier;
import org.HdrHistogram.ConcurrentHistogram;
import org.HdrHistogram.Histogram;

/**
 * The gateway's metrics: per-route request counts and latency histograms, plus whatever plugins register, rendered in
 * Prometheus text format. Lock-free on the request path; thread-safe.
 *
 * <p>Latency quantiles are over the gateway's whole life (HdrHistogram keeps them in fixed memory, with two
 * significant digits, up to one hour).
 */
public final class MetricsRegistry implements Metrics {

    private static final double[] QUANTILES = {0.5, 0.9, 0.99, 0.999};
    private static final long HIGHEST_MICROS = TimeUnit.HOURS.toMicros(1);

    private record Key(String name, Map<String, String> labels) {
    }

    private record Gauge(String help, DoubleSupplier value) {
    }

    private record RouteKey(String protocol, String route, String backend) {
    }

    /** Counts and latencies of one route and backend. */
    private static final class RouteStats {
        final Histogram latencyMicros = new ConcurrentHistogram(HIGHEST_MICROS, 2);
        final LongAdder totalNanos = new LongAdder();
        final ConcurrentMap<Integer, LongAdder> byStatus = new ConcurrentHashMap<>();
    }

    private static final class RealCounter implements Counter {
        final String help;
        final LongAdder count = new LongAdder();

        RealCounter(String help) {
            this.help = help;
        }

        @Override
        public void increment() {
            count.increment();
        }

        @Override
        public void add(long amount) {
            count.add(amount);
        }

        @Override
        public long value() {
            return count.sum();
        }
    }

    private final ConcurrentMap<Key, RealCounter> counters = new ConcurrentHashMap<>();
    private final ConcurrentMap<Key, Gauge> gauges = new ConcurrentHashMap<>();
    private final ConcurrentMap<RouteKey, RouteStats> routes = new ConcurrentHashMap<>();

    @Override
    public Counter counter(String name, String help, Map<String, String> labels) {
        return counters.computeIfAbsent(new Key(name, new TreeMap<>(labels)), key -> new RealCounter(help));
    }

    @Override
    public void gauge(String name, String help, Map<String, String> labels, DoubleSupplier value) {
        gauges.put(new Key(name, new TreeMap<>(labels)), new Gauge(help, value));
    }

    /**
     * Records one finished request; {@code protocol} is the listener's ({@code http}, {@code grpc}), {@code route} is
     * {@code model:version}, or {@code -} when none matched.
     */
    public void recordRequest(String protocol, String route, String backend, int status, long elapsedNanos) {
        RouteStats stats = routes.computeIfAbsent(new RouteKey(protocol, route, backend == null ? "-" : backend),
                key -> new RouteStats());
        stats.latencyMicros.recordValue(Math.min(HIGHEST_MICROS, Math.max(0, elapsedNanos / 1000)));
        stats.totalNanos.add(elapsedNanos);
        stats.byStatus.computeIfAbsent(status, key -> new LongAdder()).increment();
    }

    /** Every metric in Prometheus text exposition format 0.0.4. */
    public String scrape() {
        StringBuilder out = new StringBuilder(4096);
        List<Map.Entry<RouteKey, RouteStats>> routeStats = new ArrayList<>(routes.entrySet());
        routeStats.sort(Map.Entry.comparingByKey(
                java.util.Comparator.comparing(RouteKey::route).thenComparing(RouteKey::backend)
                        .thenComparing(RouteKey::protocol)));

        header(out, "modelgate_requests_total", "Requests answered, by route, backend, protocol and HTTP status.", "counter");
        for (var entry : routeStats) {
            new TreeMap<>(entry.getValue().byStatus).forEach((status, count) -> {
                sample(out, "modelgate_requests_total", routeLabels(entry.getKey(), "status", status.toString()),
                        count.sum());
            });
        }
        header(out, "modelgate_request_duration_seconds", "Request latency in the gateway, by route, backend and protocol.",
                "summary");
        for (var entry : routeStats) {
            Histogram snapshot = entry.getValue().latencyMicros.copy();
            for (double quantile : QUANTILES) {
                sample(out, "modelgate_request_duration_seconds",
                        routeLabels(entry.getKey(), "quantile", Double.toString(quantile)),
                        snapshot.getValueAtPercentile(quantile * 100) / 1e6);
            }
            Map<String, String> labels = routeLabels(entry.getKey(), null, null);
            sample(out, "modelgate_request_duration_seconds_sum", labels, entry.getValue().totalNanos.sum() / 1e9);
            sample(out, "modelgate_request_duration_seconds_count", labels, snapshot.getTotalCount());
        }
        writeFamilies(out, counters, "counter", counter -> counter.help, counter -> (double) counter.value());
        writeFamilies(out, gauges, "gauge", Gauge::help, gauge -> gauge.value().getAsDouble());
        return out.toString();
    }

    private static Map<String, String> routeLabels(RouteKey key, String extraName, String extraValue) {
        Map<String, String> labels = new TreeMap<>();
        labels.put("route", key.route());
        labels.put("backend", key.backend());
        labels.put("protocol", key.protocol());
        if (extraName != null) {
            labels.put(extraName, extraValue);
        }
        return labels;
    }

    private static <T> void writeFamilies(StringBuilder out, Map<Key, T> metrics, String type,
            java.util.function.Function<T, String> help, java.util.function.ToDoubleFunction<T> value) {
        Map<String, List<Map.Entry<Key, T>>> families = new TreeMap<>();
        metrics.entrySet().forEach(entry ->
                families.computeIfAbsent(entry.getKey().name(), name -> new ArrayList<>()).add(entry));
        families.forEach((name, members) -> {
            header(out, name, help.apply(members.getFirst().getValue()), type);
            members.forEach(member -> sample(out, name, member.getKey().labels(),
                    value.applyAsDouble(member.getValue())));
        });
    }

    private static void header(StringBuilder out, String name, String help, String type) {
        out.append("# HELP ").append(name).append(' ').append(help.replace("\\", "\\\\").replace("\n", "\\n"))
                .append('\n').append("# TYPE ").append(name).append(' ').append(type).append('\n');
    }

    private static void sample(StringBuilder out, String name, Map<String, String> labels, double value) {
        out.append(name);
        if (!labels.isEmpty()) {
            out.append('{');
            boolean first = true;
            for (var label : labels.entrySet()) {
                if (!first) {
                    out.append(',');
                }
                first = false;
                out.append(label.getKey()).append("=\"").append(label.getValue().replace("\\", "\\\\")
                        .replace("\"", "\\\"").replace("\n", "\\n")).append('"');
            }
            out.append('}');
        }
        out.append(' ');
        if (value == Math.rint(value) && !Double.isInfinite(value) && Math.abs(value) < 1e15) {
            out.append((long) value);
        } else {
            out.append(value);
        }
        out.append('\n');
    }
}
