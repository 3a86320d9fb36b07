package dev.modelgate.plugins.pool;

import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerArray;

/**
 * Active health checks, as Envoy's: every {@code interval}, one round of probes, one per instance and all at once;
 * {@code unhealthy-threshold} failed probes in a row take an instance out of balancing and {@code healthy-threshold}
 * passed ones bring it back. Instances start healthy, so that the gateway serves at once; one that is down leaves
 * after its first {@code unhealthy-threshold} rounds. What a probe asks is the backend's: an HTTP {@code GET}, a gRPC
 * readiness call.
 *
 * <p>Thread-safety: {@link #healthy} is read concurrently by calls; each instance's state is written only by its own
 * probe, and rounds never overlap.
 */
public final class HealthChecker implements AutoCloseable {

    private final HealthCheckSettings settings;
    private final List<Instance> instances;
    private final Probe probe;
    private final System.Logger log;
    private final String backend;
    /** By instance: 1 when healthy. */
    private final AtomicIntegerArray healthy;
    /** By instance: probes in a row that disagreed with its state; reset when the state flips or a probe agrees. */
    private final AtomicIntegerArray streak;
    private ScheduledExecutorService scheduler;

    /** Asks one instance whether it is healthy; called concurrently, one call per instance at a time. */
    @FunctionalInterface
    public interface Probe {

        /**
         * Probes {@code instance} once, within {@code settings.timeout()}: {@code true} passed, {@code false} failed,
         * {@code null} when the probe could not be made for a reason that says nothing about the instance's health
         * (the backend's own connections were all busy), so that the round does not count.
         */
        Boolean probe(Instance instance);
    }

    public HealthChecker(HealthCheckSettings settings, List<Instance> instances, Probe probe, System.Logger log,
            String backend) {
        this.settings = settings;
        this.instances = List.copyOf(instances);
        this.probe = probe;
        this.log = log;
        this.backend = backend;
        this.healthy = new AtomicIntegerArray(instances.size());
        this.streak = new AtomicIntegerArray(instances.size());
        for (int i = 0; i < instances.size(); i++) {
            healthy.set(i, 1);
        }
    }

    public boolean healthy(int index) {
        return healthy.get(index) == 1;
    }

    /** Starts probing on a virtual thread: a first round now, then one every {@code interval} after the last. */
    public void start() {
        scheduler = Executors.newSingleThreadScheduledExecutor(
                Thread.ofVirtual().name("modelgate-health-check-" + backend).factory());
        scheduler.scheduleWithFixedDelay(this::probeAllLogged, 0, settings.interval().toNanos(),
                TimeUnit.NANOSECONDS);
    }

    private void probeAllLogged() {
        try {
            probeAll();
        } catch (RuntimeException e) {
            // An exception would cancel every later round; one bad round must not end health checking.
            log.log(System.Logger.Level.ERROR, "backend '" + backend + "': health check round failed", e);
        }
    }

    /** Probes every instance once, concurrently, and returns when all probes are done. Called by one thread at a time. */
    public void probeAll() {
        try (ExecutorService round = Executors.newVirtualThreadPerTaskExecutor()) {
            for (Instance instance : instances) {
                round.execute(() -> {
                    Boolean passed = probe.probe(instance);
                    if (passed != null) {
                        record(instance, passed);
                    }
                });
            }
        }
    }

    private void record(Instance instance, boolean passed) {
        int index = instance.index();
        boolean wasHealthy = healthy(index);
        if (passed == wasHealthy) {
            streak.set(index, 0);
            return;
        }
        int threshold = wasHealthy ? settings.unhealthyThreshold() : settings.healthyThreshold();
        if (streak.incrementAndGet(index) >= threshold) {
            streak.set(index, 0);
            healthy.set(index, passed ? 1 : 0);
            log.log(passed ? System.Logger.Level.INFO : System.Logger.Level.WARNING,
                    "backend '" + backend + "': instance " + instance.name() + " is "
                            + (passed ? "healthy again" : "unhealthy") + " after " + threshold + " health check"
                            + (threshold == 1 ? "" : "s"));
        }
    }

    /** Stops probing; waits for a round in progress, which its probe timeout bounds. */
    @Override
    public void close() {
        if (scheduler == null) {
            return;
        }
        scheduler.shutdownNow();
        try {
            scheduler.awaitTermination(settings.timeout().toMillis() + 1000, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
