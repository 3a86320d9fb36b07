package dev.modelgate.kernel;

import dev.modelgate.spi.Metrics;
import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import io.prometheus.metrics.core.datapoints.DistributionDataPoint;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.expositionformats.ExpositionFormatWriter;
import io.prometheus.metrics.expositionformats.ExpositionFormats;
import io.prometheus.metrics.instrumentation.jvm.JvmMetrics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.Unit;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.function.DoubleSupplier;
import java.util.stream.Collectors;

/**
 * The gateway's metrics, kept by the Prometheus Java client: per-route request counts by HTTP status and five-digit
 * code, latency histograms (total, and the backend's part of it) with explicit buckets that add up across gateways,
 * the requests in flight, the JVM's and the process's own metrics, and whatever plugins register through the SPI's
 * {@link Metrics}, which names no Prometheus type. Rendered in the Prometheus text format, or OpenMetrics (with
 * {@code # UNIT}) when the scraper's {@code Accept} asks for it. Lock-free on the request path; thread-safe.
 */
public final class MetricsRegistry implements Metrics {

    /**
     * Seconds, from well under a millisecond (an in-process model, a rejection) to a minute (a slow model server):
     * fixed, so that the buckets of every gateway line up and their counts can be summed.
     */
    static final double[] LATENCY_BUCKETS = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
        5, 10, 30, 60};

    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final ExpositionFormats formats = ExpositionFormats.init();
    /** (The SPI's {@link Counter} takes the short name: Prometheus's is spelt out.) */
    private final io.prometheus.metrics.core.metrics.Counter requests = io.prometheus.metrics.core.metrics.Counter
            .builder()
            .name("modelgate_requests_total")
            .help("Requests answered, by protocol (http, grpc), route, backend, HTTP status and the gateway's "
                    + "five-digit code (0: success).")
            .labelNames("protocol", "route", "backend", "status", "code")
            .register(registry);
    /** (The SPI's {@link Metrics.Histogram} takes the short name in here: Prometheus's is spelt out.) */
    private final io.prometheus.metrics.core.metrics.Histogram requestDuration =
            io.prometheus.metrics.core.metrics.Histogram.builder()
            .name("modelgate_request_duration_seconds")
            .help("Request latency in the gateway, from the request's arrival to its answer, by protocol, route and "
                    + "backend.")
            .unit(Unit.SECONDS)
            .labelNames("protocol", "route", "backend")
            .classicOnly()
            .classicUpperBounds(LATENCY_BUCKETS)
            .register(registry);
    private final io.prometheus.metrics.core.metrics.Histogram backendDuration =
            io.prometheus.metrics.core.metrics.Histogram.builder()
            .name("modelgate_backend_request_duration_seconds")
            .help("Latency of the calls to a backend, each attempt on its own: the backend's part of a request's.")
            .unit(Unit.SECONDS)
            .labelNames("backend")
            .classicOnly()
            .classicUpperBounds(LATENCY_BUCKETS)
            .register(registry);
    /*
     * The request path's data points, found by their labels here: Prometheus's own lookup hashes a list of the label
     * values, the status and code made strings anew each time (1.5% of a proxied request's CPU, async-profiler).
     */
    private final ConcurrentMap<Answered, CounterDataPoint> requestCounts = new ConcurrentHashMap<>();
    private final ConcurrentMap<Served, DistributionDataPoint> requestDurations = new ConcurrentHashMap<>();
    private final ConcurrentMap<String, DistributionDataPoint> backendDurations = new ConcurrentHashMap<>();
    /** The plugins' counters and gauges, one family per name, each family with one set of label names. */
    private final ConcurrentMap<String, Family<io.prometheus.metrics.core.metrics.Counter>> counters =
            new ConcurrentHashMap<>();
    private final ConcurrentMap<String, Family<GaugeValues>> gauges = new ConcurrentHashMap<>();
    private final ConcurrentMap<String, Family<io.prometheus.metrics.core.metrics.Histogram>> histograms =
            new ConcurrentHashMap<>();

    /**
     * How many {@linkplain Owner owners} hold each series the plugins registered: a series goes from the scrape when
     * the last one lets it go (a plugin instance that a reload rebuilt registers its series again before the
     * instance it replaces lets them go, so they stay).
     */
    private final Map<Series, Integer> seriesOwners = new java.util.HashMap<>();

    /** One member of a plugin's family: its name and label values. */
    private record Series(String name, List<String> labelValues) {
    }

    /** A registered metric and the label names every member of its family has. */
    private record Family<T>(List<String> labelNames, T metric) {
    }

    /** The values a callback gauge family reads at each scrape, by label values. */
    private record GaugeValues(ConcurrentMap<List<String>, DoubleSupplier> members) {
    }

    public MetricsRegistry() {
        JvmMetrics.builder().register(registry);
    }

    @Override
    public Counter counter(String name, String help, Map<String, String> labels) {
        Map<String, String> sorted = new TreeMap<>(labels);
        Family<io.prometheus.metrics.core.metrics.Counter> family = family(counters, name, sorted, labelNames ->
                io.prometheus.metrics.core.metrics.Counter.builder().name(name).help(help)
                        .labelNames(labelNames.toArray(String[]::new)).register(registry));
        CounterDataPoint point = family.metric().labelValues(sorted.values().toArray(String[]::new));
        return new Counter() {
            @Override
            public void increment() {
                point.inc();
            }

            @Override
            public void add(long amount) {
                point.inc(amount);
            }

            @Override
            public long value() {
                return (long) point.get();
            }
        };
    }

    @Override
    public Metrics.Histogram histogram(String name, String help, Map<String, String> labels,
            double... upperBounds) {
        Map<String, String> sorted = new TreeMap<>(labels);
        Family<io.prometheus.metrics.core.metrics.Histogram> family = family(histograms, name, sorted, labelNames ->
                io.prometheus.metrics.core.metrics.Histogram.builder().name(name).help(help)
                        .labelNames(labelNames.toArray(String[]::new)).classicOnly()
                        .classicUpperBounds(upperBounds).register(registry));
        return family.metric().labelValues(sorted.values().toArray(String[]::new))::observe;
    }

    @Override
    public void gauge(String name, String help, Map<String, String> labels, DoubleSupplier value) {
        Map<String, String> sorted = new TreeMap<>(labels);
        Family<GaugeValues> family = family(gauges, name, sorted, labelNames -> {
            GaugeValues values = new GaugeValues(new ConcurrentHashMap<>());
            GaugeWithCallback.builder().name(name).help(help).labelNames(labelNames.toArray(String[]::new))
                    .callback(callback -> values.members().forEach((labelValues, supplier) ->
                            callback.call(supplier.getAsDouble(), labelValues.toArray(String[]::new))))
                    .register(registry);
            return values;
        });
        family.metric().members().put(List.copyOf(sorted.values()), value);
    }

    /**
     * The family {@code name}, registered by {@code register} on first use.
     *
     * @throws IllegalArgumentException when the family has other label names: Prometheus requires one set per name
     */
    private static <T> Family<T> family(ConcurrentMap<String, Family<T>> families, String name,
            Map<String, String> sortedLabels, java.util.function.Function<List<String>, T> register) {
        List<String> labelNames = List.copyOf(sortedLabels.keySet());
        Family<T> family = families.computeIfAbsent(name, key -> new Family<>(labelNames, register.apply(labelNames)));
        if (!family.labelNames().equals(labelNames)) {
            throw new IllegalArgumentException("metric " + name + " has the labels " + family.labelNames()
                    + ", not " + labelNames);
        }
        return family;
    }

    /**
     * A view for one plugin instance: what it registers through it stays on the scrape until {@link Owner#release()},
     * when the instance is closed.
     */
    Owner owner() {
        return new Owner();
    }

    /** The series one plugin instance registered. Thread-safe. */
    final class Owner implements Metrics {
        private final java.util.Set<Series> owned = ConcurrentHashMap.newKeySet();

        @Override
        public Counter counter(String name, String help, Map<String, String> labels) {
            Counter counter = MetricsRegistry.this.counter(name, help, labels);
            claim(name, labels);
            return counter;
        }

        @Override
        public void gauge(String name, String help, Map<String, String> labels, DoubleSupplier value) {
            MetricsRegistry.this.gauge(name, help, labels, value);
            claim(name, labels);
        }

        @Override
        public Histogram histogram(String name, String help, Map<String, String> labels, double... upperBounds) {
            Histogram histogram = MetricsRegistry.this.histogram(name, help, labels, upperBounds);
            claim(name, labels);
            return histogram;
        }

        private void claim(String name, Map<String, String> labels) {
            Series series = new Series(name, List.copyOf(new TreeMap<>(labels).values()));
            if (owned.add(series)) {
                synchronized (seriesOwners) {
                    seriesOwners.merge(series, 1, Integer::sum);
                }
            }
        }

        /** Lets go of every series this owner registered; those no other owner holds leave the scrape. */
        void release() {
            synchronized (seriesOwners) {
                for (Series series : owned) {
                    if (seriesOwners.merge(series, -1, Integer::sum) == 0) {
                        seriesOwners.remove(series);
                        forget(series);
                    }
                }
            }
            owned.clear();
        }
    }

    private void forget(Series series) {
        String[] values = series.labelValues().toArray(String[]::new);
        var counter = counters.get(series.name());
        if (counter != null) {
            counter.metric().remove(values);
        }
        var histogram = histograms.get(series.name());
        if (histogram != null) {
            histogram.metric().remove(values);
        }
        var gauge = gauges.get(series.name());
        if (gauge != null) {
            gauge.metric().members().remove(series.labelValues());
        }
    }

    /**
     * Takes the request and backend series of routes and backends that are no longer configured off the scrape,
     * once no request of an older deployment can add to them. The route {@code -} (no route matched) always stays.
     */
    void retainRequestSeries(java.util.Set<String> routes, java.util.Set<String> backends) {
        java.util.function.Predicate<String> goneRoute = route -> !route.equals("-") && !routes.contains(route);
        java.util.function.Predicate<String> goneBackend = backend -> !backend.equals("-")
                && !backends.contains(backend);
        requests.removeIf(values -> goneRoute.test(values.get(1)) || goneBackend.test(values.get(2)));
        requestDuration.removeIf(values -> goneRoute.test(values.get(1)) || goneBackend.test(values.get(2)));
        backendDuration.removeIf(values -> goneBackend.test(values.get(0)));
        // Forgotten here too: a route configured again must count in the scrape's series, not in a removed one.
        requestCounts.keySet().removeIf(series -> goneRoute.test(series.route()) || goneBackend.test(series.backend()));
        requestDurations.keySet().removeIf(series -> goneRoute.test(series.route())
                || goneBackend.test(series.backend()));
        backendDurations.keySet().removeIf(goneBackend);
    }

    /** Reads the requests in flight at each scrape. */
    void inFlightGauge(DoubleSupplier inFlight) {
        GaugeWithCallback.builder().name("modelgate_requests_in_flight")
                .help("Requests received and not yet answered, streamed answers until their last byte.")
                .callback(callback -> callback.call(inFlight.getAsDouble()))
                .register(registry);
    }

    /**
     * Records one finished request; {@code protocol} is the listener's ({@code http}, {@code grpc}), {@code route} is
     * {@code model:version}, or {@code -} when none matched, and {@code code} the five-digit code it was answered with
     * (0 for success).
     */
    public void recordRequest(String protocol, String route, String backend, int status, int code,
            long elapsedNanos) {
        String backendLabel = backend == null ? "-" : backend;
        requestCounts.computeIfAbsent(new Answered(protocol, route, backendLabel, status, code),
                answered -> requests.labelValues(protocol, route, backendLabel, Integer.toString(status),
                        Integer.toString(code))).inc();
        requestDurations.computeIfAbsent(new Served(protocol, route, backendLabel),
                served -> requestDuration.labelValues(protocol, route, backendLabel))
                .observe(Unit.nanosToSeconds(Math.max(0, elapsedNanos)));
    }

    /** Records one call to {@code backend}, an attempt of a request, that took {@code elapsedNanos}. */
    void recordBackendCall(String backend, long elapsedNanos) {
        backendDurations.computeIfAbsent(backend, backendDuration::labelValues)
                .observe(Unit.nanosToSeconds(Math.max(0, elapsedNanos)));
    }

    /** The labels of a request's count. */
    private record Answered(String protocol, String route, String backend, int status, int code) {
    }

    /** The labels of a request's latency. */
    private record Served(String protocol, String route, String backend) {
    }

    /**
     * A scrape, in the format {@code accept} asks for: OpenMetrics, else the Prometheus text format. The Protobuf
     * format is not offered (its writer needs a Protobuf runtime of its own), so a scraper that prefers it gets its
     * next choice.
     */
    public Scrape scrape(String accept) {
        ExpositionFormatWriter writer = formats.findWriter(withoutProtobuf(accept));
        ByteArrayOutputStream out = new ByteArrayOutputStream(16_384);
        try {
            writer.write(out, registry.scrape());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return new Scrape(writer.getContentType(), out.toByteArray());
    }

    private static String withoutProtobuf(String accept) {
        return accept == null ? null : Arrays.stream(accept.split(","))
                .filter(range -> !range.contains("application/vnd.google.protobuf"))
                .collect(Collectors.joining(","));
    }

    /** What a scrape wrote, and its media type. */
    public record Scrape(String contentType, byte[] body) {
    }
}
