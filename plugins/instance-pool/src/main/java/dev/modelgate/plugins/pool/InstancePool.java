package dev.modelgate.plugins.pool;

import dev.modelgate.spi.Attribute;
import dev.modelgate.spi.Exchange;
import dev.modelgate.spi.Metrics;
import dev.modelgate.spi.PluginContext;
import dev.modelgate.spi.Principal;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;
import java.util.random.RandomGenerator;

/**
 * A remote backend's instances and the choice among them, whatever the backend speaks: the first routing rule the
 * request matches chooses the pool of instances (else the default instances); the balancer chooses among those of the
 * pool that are healthy and not ejected, or among the whole pool when none is (Envoy's panic mode: a guess at a sick
 * instance beats a certain 503, and health checks can be wrong).
 *
 * <p>The exchange remembers which instances of this pool the request already tried, and the balancer chooses among
 * those not tried yet when there are any, so that a retry (the {@code retry} middleware runs the backend again with
 * the same exchange) goes to another instance when there is one.
 *
 * <p>Exports per instance {@code modelgate_backend_instance_healthy} and the counters of {@link InstanceOutcomes}, per
 * backend {@code modelgate_backend_panic_total}. Thread-safety: {@link #choose} is called concurrently from many
 * virtual threads and never blocks.
 */
public final class InstancePool implements AutoCloseable {

    private final PoolSettings settings;
    private final Balancer balancer;
    private final HealthChecker healthChecker;
    private final InstanceOutcomes outcomes;
    /**
     * The instances of this pool the request already tried, in a list only the request's thread touches. A key per
     * pool, not one constant: a fallback may send the same exchange on to another backend.
     */
    private final Attribute<List<Instance>> triedKey;
    private final Metrics.Counter panics;

    /**
     * Starts health checks when configured.
     *
     * @param backend the backend's configured name, for metric labels and logs
     * @param probe how the backend's health checks ask an instance; unused without {@code health-check}
     * @param nanoTime the monotonic time ejections are measured by, in nanoseconds; {@link System#nanoTime} outside
     *     tests
     * @param random the randomness of balancing; thread-safe
     */
    public InstancePool(PoolSettings settings, String backend, HealthChecker.Probe probe, Metrics metrics,
            System.Logger log, LongSupplier nanoTime, RandomGenerator random) {
        this.settings = settings;
        this.triedKey = Attribute.named(backend + ".tried-instances");
        this.outcomes = new InstanceOutcomes(backend, settings.instances(), settings.outlierDetection(), metrics, log,
                nanoTime);
        this.balancer = Balancer.of(settings, outcomes::inFlight, random);
        for (Instance instance : settings.instances()) {
            Map<String, String> labels = Map.of("backend", backend, "instance", instance.name());
            metrics.gauge("modelgate_backend_instance_healthy",
                    "1 when a backend instance takes traffic: healthy by its health checks and not ejected.", labels,
                    () -> available(instance) ? 1 : 0);
        }
        this.panics = metrics.counter("modelgate_backend_panic_total",
                "Calls sent to an unhealthy or ejected instance because none of the pool was available.",
                Map.of("backend", backend));
        this.healthChecker = settings.healthCheck() == null ? null
                : new HealthChecker(settings.healthCheck(), settings.instances(), probe, log, backend);
        if (healthChecker != null) {
            healthChecker.start();
        }
    }

    private static final String BACKENDS_SECTION = "backends.";

    /** The backend's configured name, {@code tf-main} for {@code backends.tf-main}: the kernel's metrics use it. */
    public static String backendName(PluginContext context) {
        String path = context.name();
        return path.startsWith(BACKENDS_SECTION) ? path.substring(BACKENDS_SECTION.length()) : path;
    }

    /** What the instances did with their calls: the caller reports each call's start, outcome and end there. */
    public InstanceOutcomes outcomes() {
        return outcomes;
    }

    /** The instance for this attempt of {@code exchange}'s call, remembered as tried. */
    public Instance choose(Exchange exchange) {
        List<Instance> tried = exchange.attribute(triedKey);
        if (tried == null) {
            tried = new ArrayList<>(2);
            exchange.setAttribute(triedKey, tried);
        }
        Instance instance = pick(pool(exchange), tried, exchange);
        tried.add(instance);
        return instance;
    }

    /** The instances of the first rule the request matches, else the default instances. */
    private List<Instance> pool(Exchange exchange) {
        if (!settings.rules().isEmpty()) {
            Principal principal = exchange.attribute(Principal.ATTRIBUTE);
            for (RoutingRule rule : settings.rules()) {
                if (rule.matches(exchange.requestHeaders(), principal)) {
                    return rule.instances();
                }
            }
        }
        return settings.defaultInstances();
    }

    /**
     * The balancer's choice among the pool's available instances, among those this request has not tried when any
     * is left: the balancer keeps its policy, over fewer candidates.
     */
    private Instance pick(List<Instance> pool, List<Instance> tried, Exchange exchange) {
        List<Instance> candidates = new ArrayList<>(pool.size());
        for (Instance instance : pool) {
            if (available(instance)) {
                candidates.add(instance);
            }
        }
        if (candidates.isEmpty()) {
            panics.increment();
            candidates.addAll(pool);
        }
        if (!tried.isEmpty() && candidates.size() > 1) {
            List<Instance> untried = new ArrayList<>(candidates);
            untried.removeAll(tried);
            if (!untried.isEmpty()) {
                candidates = untried;
            }
        }
        return balancer.pick(candidates, exchange);
    }

    private boolean available(Instance instance) {
        return (healthChecker == null || healthChecker.healthy(instance.index()))
                && !outcomes.ejected(instance.index());
    }

    /**
     * Without health checks the pool cannot know, and says ready; with them, ready while some instance passes its
     * probes (passive ejection is not counted: it is a per-request judgement, and panic mode still serves).
     */
    public boolean ready() {
        return healthChecker == null || settings.instances().stream()
                .anyMatch(instance -> healthChecker.healthy(instance.index()));
    }

    /** Stops health checks; waits for a round in progress, which its probe timeout bounds. */
    @Override
    public void close() {
        if (healthChecker != null) {
            healthChecker.close();
        }
    }
}
