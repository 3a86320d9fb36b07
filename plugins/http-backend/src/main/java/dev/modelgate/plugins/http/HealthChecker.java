package dev.modelgate.plugins.http;

import java.io.IOException;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.apache.hc.client5.http.classic.methods.HttpGet;
import org.apache.hc.client5.http.config.RequestConfig;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.core5.http.ConnectionRequestTimeoutException;
import org.apache.hc.core5.http.io.entity.EntityUtils;
import org.apache.hc.core5.util.Timeout;

/**
 * Active health checks, as Envoy's: every {@code interval}, one round of {@code GET path} probes, one per instance
 * and all at once; {@code unhealthy-threshold} failed probes in a row take an instance out of balancing and
 * {@code healthy-threshold} passed ones bring it back. Instances start healthy, so that the gateway serves at once;
 * one that is down leaves after its first {@code unhealthy-threshold} rounds.
 *
 * <p>Probes go through the backend's pooled client, so they count against {@code max-connections} and share its
 * connect timeout. Thread-safety: {@link #healthy} is read concurrently by calls; each instance's state is written
 * only by its own probe, and rounds never overlap.
 */
final class HealthChecker implements AutoCloseable {

    private final HealthCheckSettings settings;
    private final List<Instance> instances;
    private final CloseableHttpClient client;
    private final System.Logger log;
    private final String backend;
    /** By instance: 1 when healthy. */
    private final AtomicIntegerArray healthy;
    /** By instance: probes in a row that disagreed with its state; reset when the state flips or a probe agrees. */
    private final AtomicIntegerArray streak;
    private final RequestConfig probeConfig;
    private ScheduledExecutorService scheduler;

    HealthChecker(HealthCheckSettings settings, List<Instance> instances, CloseableHttpClient client,
            System.Logger log, String backend) {
        this.settings = settings;
        this.instances = List.copyOf(instances);
        this.client = client;
        this.log = log;
        this.backend = backend;
        this.healthy = new AtomicIntegerArray(instances.size());
        this.streak = new AtomicIntegerArray(instances.size());
        for (int i = 0; i < instances.size(); i++) {
            healthy.set(i, 1);
        }
        Timeout timeout = Timeout.of(settings.timeout());
        this.probeConfig = RequestConfig.custom()
                .setConnectionRequestTimeout(timeout)
                .setResponseTimeout(timeout)
                .build();
    }

    boolean healthy(int index) {
        return healthy.get(index) == 1;
    }

    /** Starts probing on a virtual thread: a first round now, then one every {@code interval} after the last. */
    void start() {
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
    void probeAll() {
        try (ExecutorService round = Executors.newVirtualThreadPerTaskExecutor()) {
            for (Instance instance : instances) {
                round.execute(() -> {
                    Boolean passed = probe(instance);
                    if (passed != null) {
                        record(instance, passed);
                    }
                });
            }
        }
    }

    /**
     * Probes once: {@code true} passed, {@code false} failed, {@code null} when no pooled connection was free (the
     * instance is busy with requests, which says nothing about its health, so the round is not counted).
     */
    private Boolean probe(Instance instance) {
        HttpGet request = new HttpGet(instance.url().resolve(settings.path()));
        request.setConfig(probeConfig);
        try {
            int status = client.execute(request, response -> {
                // Reading the body to its end returns the connection to the pool.
                EntityUtils.consume(response.getEntity());
                return response.getCode();
            });
            return status >= 200 && status < 300;
        } catch (ConnectionRequestTimeoutException e) {
            return null;
        } catch (IOException e) {
            return false;
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
