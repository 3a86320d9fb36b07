package dev.modelgate.plugins.retry;

import dev.modelgate.spi.BackendFilter;
import dev.modelgate.spi.BackendFilterProvider;
import dev.modelgate.spi.ConfigNode;
import dev.modelgate.spi.PluginContext;
import java.util.concurrent.ThreadLocalRandom;
import java.util.random.RandomGenerator;

/**
 * The {@code retry} backend filter, listed in {@code backends.NAME.filters}: calls the rest of the backend's chain again
 * when an idempotent request (one on a route marked {@code idempotent: true}) fails in a way another attempt may
 * avoid. See {@link RetryFilter} for what one call does. The {@code http} backend sends each attempt of a request to
 * an instance it has not tried yet when there is one.
 *
 * <p>Config keys: {@code attempts} (2, the first call included; 1 to 10), {@code budget-percent} (20: retries may add
 * that share to the backend's calls of the last 10 seconds), {@code min-retries-per-second} (3, allowed on top),
 * {@code base-backoff} (25ms), {@code max-backoff} (ten times the base) and {@code retry-on} (the gateway codes worth
 * another attempt: 40003 unavailable, 40004 timed out, 40005 a 5xx answer, 40007 an unreadable answer, 40012 an
 * answer broken off).
 *
 * <p>The filters listed after this one run once per attempt: list it before {@code circuit-breaker} and
 * {@code bulkhead}, so that they see every call to the backend. The route's middlewares run once.
 *
 * <p>Exports, per backend, {@code modelgate_retries_total} and {@code modelgate_retry_budget_exhausted_total}.
 */
// Not final: a test subclass in this package fixes the randomness; the package-private constructor keeps out others.
public class RetryProvider implements BackendFilterProvider {

    private final RandomGenerator random;

    public RetryProvider() {
        // ThreadLocalRandom per calling thread: thread-safe without contention.
        this(() -> ThreadLocalRandom.current().nextLong());
    }

    /** @param random the randomness of backoffs, fixed by tests; thread-safe */
    RetryProvider(RandomGenerator random) {
        this.random = random;
    }

    @Override
    public String type() {
        return "retry";
    }

    @Override
    public boolean repeatsProceed() {
        return true;
    }

    @Override
    public BackendFilter create(ConfigNode config, PluginContext context) {
        String backend = BackendFilterProvider.backendName(context);
        // Monotonic: the wall clock stepping back would hold the window's spent budget for as much longer.
        return new RetryFilter(backend, RetrySettings.from(config), context.metrics(), System::nanoTime, random);
    }
}
