package dev.modelgate.plugins.http;

import java.time.Duration;
import java.util.random.RandomGenerator;

/**
 * When and how an idempotent predict is tried again.
 *
 * @param attempts the most calls one request makes, the first included; 1 means no retry
 * @param budgetPercent retries may add at most this percentage to the requests of the last
 *     {@link RetryBudget#WINDOW_SECONDS} seconds
 * @param minRetriesPerSecond retries allowed on top of the percentage, so that a backend with little traffic still
 *     gets some
 * @param baseBackoff the cap of the first backoff; each further retry doubles it
 * @param maxBackoff the largest cap
 */
record RetrySettings(int attempts, int budgetPercent, int minRetriesPerSecond, Duration baseBackoff,
        Duration maxBackoff) {

    /** No retries: what a backend without a {@code retry} section does. */
    static final RetrySettings NONE = new RetrySettings(1, 0, 0, Duration.ofMillis(25), Duration.ofMillis(250));

    /**
     * The pause before retry number {@code retry} (1 for the first): "full jitter", uniformly random between zero and
     * {@code min(max-backoff, base-backoff * 2^(retry-1))}, so that clients that failed together do not retry
     * together.
     */
    Duration backoff(int retry, RandomGenerator random) {
        long base = baseBackoff.toNanos();
        long max = maxBackoff.toNanos();
        // Doubling past the cap (or past 62 bits) changes nothing but the risk of overflow.
        int doublings = Math.min(retry - 1, 62);
        long cap = base > max >> doublings ? max : Math.min(max, base << doublings);
        return Duration.ofNanos(Math.min(cap, (long) (random.nextDouble() * (cap + 1))));
    }
}
