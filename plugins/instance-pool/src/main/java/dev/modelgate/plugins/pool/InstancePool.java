package dev.modelgate.plugins.pool;

import dev.modelgate.spi.Attribute;
import dev.modelgate.spi.Exchange;
import dev.modelgate.spi.Metrics;
import dev.modelgate.spi.PluginContext;
import dev.modelgate.spi.Principal;
import dev.modelgate.spi.balancer.Balancer;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.LongSupplier;

/**
 * A remote backend's instances and the choice among them, whatever the backend speaks: the first routing rule the
 * request matches chooses the pool of instances (else the default instances); the pool's priority levels share the
 * traffic by their health ({@link PriorityLoad}: the highest level keeps it while enough of it is healthy, and sheds
 * to the next in proportion as it fails); the balancer chooses among the level's instances that are healthy and not
 * ejected. When none of the pool is, the highest level is used whole (Envoy's panic mode: a guess at a sick instance
 * beats a certain 503, and health checks can be wrong).
 *
 * <p>The exchange remembers which instances of this pool the request already tried, and the balancer chooses among
 * those not tried yet when there are any (in the chosen level, else the next level that has some), so that a retry
 * (the {@code retry} filter runs the backend again with the same exchange) goes to another instance when there is one.
 *
 * <p>Exports per instance {@code modelgate_backend_instance_healthy} and the counters of {@link InstanceOutcomes}, per
 * backend {@code modelgate_backend_panic_total} and, per priority level of the default instances,
 * {@code modelgate_backend_priority_load}. Thread-safety: {@link #choose} is called concurrently from many virtual
 * threads and never blocks.
 */
public final class InstancePool implements AutoCloseable {

    private final PoolSettings settings;
    private final Balancer balancer;
    private final HealthChecker healthChecker;
    private final InstanceOutcomes outcomes;
    private final PriorityLoad priorityLoad = new PriorityLoad();
    /** Each pool (the default instances, each rule's) by its list, grouped by priority level once. */
    private final Map<List<Instance>, Levels> levels = new IdentityHashMap<>();
    /**
     * The instances of this pool the request already tried, in a list only the request's thread touches. A key per
     * pool, not one constant: a fallback may send the same exchange on to another backend.
     */
    private final Attribute<List<Instance>> triedKey;
    private final Metrics.Counter panics;

    /**
     * A pool's instances by priority level, the highest (lowest number) first.
     *
     * @param byLevel each level's instances, never empty, in configuration order
     * @param sizes each level's instance count
     * @param priorities each level's priority number
     */
    private record Levels(List<List<Instance>> byLevel, int[] sizes, int[] priorities) {

        static Levels of(List<Instance> pool) {
            Map<Integer, List<Instance>> byPriority = new TreeMap<>();
            pool.forEach(instance -> byPriority.computeIfAbsent(instance.priority(), priority -> new ArrayList<>())
                    .add(instance));
            List<List<Instance>> byLevel = byPriority.values().stream().map(List::copyOf).toList();
            return new Levels(byLevel, byLevel.stream().mapToInt(List::size).toArray(),
                    byPriority.keySet().stream().mapToInt(Integer::intValue).toArray());
        }
    }

    /**
     * Starts health checks when configured.
     *
     * @param backend the backend's configured name, for metric labels and logs
     * @param probe how the backend's health checks ask an instance; unused without {@code health-check}
     * @param nanoTime the monotonic time ejections are measured by, in nanoseconds; {@link System#nanoTime} outside
     *     tests
     */
    public InstancePool(PoolSettings settings, String backend, HealthChecker.Probe probe, Metrics metrics,
            System.Logger log, LongSupplier nanoTime) {
        this.settings = settings;
        this.triedKey = Attribute.named(backend + ".tried-instances");
        this.outcomes = new InstanceOutcomes(backend, settings.instances(), settings.inFlight(),
                settings.outlierDetection(), metrics, log, nanoTime);
        this.balancer = settings.balancer();
        levels.put(settings.defaultInstances(), Levels.of(settings.defaultInstances()));
        settings.rules().forEach(rule -> levels.put(rule.instances(), Levels.of(rule.instances())));
        for (Instance instance : settings.instances()) {
            Map<String, String> labels = Map.of("backend", backend, "instance", instance.name());
            metrics.gauge("modelgate_backend_instance_healthy",
                    "1 when a backend instance takes traffic: healthy by its health checks and not ejected.", labels,
                    () -> available(instance) ? 1 : 0);
        }
        Levels defaults = levels.get(settings.defaultInstances());
        for (int level = 0; level < defaults.priorities().length; level++) {
            int index = level;
            metrics.gauge("modelgate_backend_priority_load",
                    "Percent of the backend's traffic (of its default instances) a priority level takes now, by the "
                            + "health of the levels above it.",
                    Map.of("backend", backend, "priority", Integer.toString(defaults.priorities()[level])),
                    () -> PriorityLoad.loads(availableCounts(defaults), defaults.sizes())[index]);
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
        Instance instance = pick(levels.get(pool(exchange)), tried, exchange);
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
     * The balancer's choice among the available instances of the level the priority load gives this call, among
     * those this request has not tried when any is left: the balancer keeps its policy, over fewer candidates.
     */
    private Instance pick(Levels pool, List<Instance> tried, Exchange exchange) {
        List<List<Instance>> byLevel = pool.byLevel();
        if (byLevel.size() == 1 && tried.isEmpty() && allAvailable(byLevel.getFirst())) {
            // Most pools, most of the time: what the general case below would choose among, without its copies.
            return balancer.pick(byLevel.getFirst(), exchange);
        }
        List<List<Instance>> available = new ArrayList<>(byLevel.size());
        int[] availableCounts = new int[byLevel.size()];
        int anyAvailable = 0;
        for (int level = 0; level < byLevel.size(); level++) {
            List<Instance> candidates = new ArrayList<>(byLevel.get(level).size());
            for (Instance instance : byLevel.get(level)) {
                if (available(instance)) {
                    candidates.add(instance);
                }
            }
            available.add(candidates);
            availableCounts[level] = candidates.size();
            anyAvailable += candidates.size();
        }
        List<Instance> candidates;
        if (anyAvailable == 0) {
            panics.increment();
            candidates = byLevel.getFirst();
        } else {
            candidates = byLevel.size() == 1 ? available.getFirst()
                    : available.get(priorityLoad.level(PriorityLoad.loads(availableCounts, pool.sizes())));
            if (candidates.isEmpty()) {
                // A level of more than 140 instances with one available rounds to no health, and no load.
                candidates = firstNonEmpty(available);
            }
        }
        if (!tried.isEmpty()) {
            List<Instance> untried = untried(candidates, tried);
            for (int level = 0; untried.isEmpty() && level < available.size(); level++) {
                untried = untried(available.get(level), tried);
            }
            if (!untried.isEmpty()) {
                candidates = untried;
            }
        }
        return balancer.pick(candidates, exchange);
    }

    private boolean allAvailable(List<Instance> instances) {
        for (int i = 0; i < instances.size(); i++) {
            if (!available(instances.get(i))) {
                return false;
            }
        }
        return true;
    }

    private static List<Instance> firstNonEmpty(List<List<Instance>> lists) {
        return lists.stream().filter(list -> !list.isEmpty()).findFirst().orElseThrow();
    }

    private static List<Instance> untried(List<Instance> candidates, List<Instance> tried) {
        List<Instance> untried = new ArrayList<>(candidates);
        untried.removeAll(tried);
        return untried;
    }

    private int[] availableCounts(Levels pool) {
        return pool.byLevel().stream().mapToInt(level -> (int) level.stream().filter(this::available).count())
                .toArray();
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
