package dev.modelgate.plugins.http;

import dev.modelgate.plugins.pool.HealthCheckSettings;
import dev.modelgate.plugins.pool.Instance;
import dev.modelgate.spi.Headers;
import dev.modelgate.spi.upstream.UpstreamException;
import dev.modelgate.spi.upstream.UpstreamPool;
import dev.modelgate.spi.upstream.UpstreamRequest;
import java.util.concurrent.CompletionException;
import java.util.function.Function;

/**
 * The {@code http} backend's health probe, as Envoy's HTTP health checks: {@code GET path} on the instance's host and
 * port; a 2xx answer within the timeout passes, anything else fails. Probes go through the instance's connection
 * pool, so they count against {@code max-connections} and share its connect timeout. Thread-safe.
 */
final class HealthProbe {

    /** A health answer is short: one longer than this fails the probe rather than being read on. */
    private static final int MAX_ANSWER_BYTES = 64 * 1024;

    private final HealthCheckSettings settings;
    private final Function<Instance, UpstreamPool> pools;

    /**
     * @param settings the backend's health checks, or {@code null} when it has none (the probe is then unused)
     * @param pools the connection pool of each instance
     */
    HealthProbe(HealthCheckSettings settings, Function<Instance, UpstreamPool> pools) {
        this.settings = settings;
        this.pools = pools;
    }

    /**
     * Probes once: {@code true} passed, {@code false} failed, {@code null} when no pooled connection was free (the
     * instance is busy with requests) or the pool could make no call (the gateway's IO threads not running yet, as
     * in the first rounds while it starts, or any more): neither says anything about the instance's health, so the
     * round is not counted.
     */
    Boolean probe(Instance instance) {
        UpstreamRequest request = new UpstreamRequest("GET", HttpBackend.target(instance.url().resolve(
                settings.path())), new Headers(), null, settings.timeout().toNanos(), MAX_ANSWER_BYTES,
                Integer.MAX_VALUE);
        try {
            int status = pools.apply(instance).send(request).toCompletableFuture().join().status();
            return status >= 200 && status < 300;
        } catch (CompletionException e) {
            if (e.getCause() instanceof UpstreamException failure
                    && (failure.kind() == UpstreamException.Kind.POOL_EXHAUSTED
                    || failure.kind() == UpstreamException.Kind.CLOSED)) {
                return null;
            }
            return false;
        }
    }
}
