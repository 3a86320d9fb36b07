package dev.modelgate.plugins.ratelimit;

import java.time.Duration;

/**
 * One configured limit: {@code rate} requests per {@code period}, with room for {@code burst} at once. Immutable.
 *
 * <p>A {@link Algorithm#TOKEN_BUCKET token bucket} holds up to {@code burst} tokens, gains {@code rate} per
 * {@code period} and spends one per admitted request. A {@link Algorithm#LEAKY_BUCKET leaky bucket} paces requests
 * {@code period / rate} apart and lets {@code burst} of them arrive back to back (1: strictly paced); it is run as
 * GCRA, which stores one theoretical arrival time instead of a queue.
 *
 * @param burst the most requests admitted at once; also the {@code RateLimit-Limit} this limit announces
 */
record Limit(Algorithm algorithm, int rate, Duration period, int burst) {

    /** The largest {@code burst * period}, in nanoseconds, for which the local arithmetic cannot overflow. */
    static final long MAX_BURST_NANOS = 1L << 61;

    enum Algorithm {
        TOKEN_BUCKET("token-bucket"), LEAKY_BUCKET("leaky-bucket");

        final String configName;

        Algorithm(String configName) {
            this.configName = configName;
        }
    }

    Limit {
        if (rate < 1 || burst < 1 || period.isNegative() || period.isZero()) {
            throw new IllegalArgumentException("rate, burst and period must be positive: " + rate + ", " + burst
                    + ", " + period);
        }
        if (period.toNanos() > MAX_BURST_NANOS / burst) {
            throw new IllegalArgumentException("burst * period is too large: " + burst + " * " + period);
        }
    }

    long periodNanos() {
        return period.toNanos();
    }

    /**
     * The leaky bucket's spacing between requests, rounded up to the nanosecond: a rate that does not divide the
     * period (3 per second) paces a fraction of a nanosecond slower, never faster.
     */
    long intervalNanos() {
        return (periodNanos() + rate - 1) / rate;
    }

    /**
     * How this limit appears in a Redis key, so that changing a limit's settings starts from fresh state instead of
     * reading state kept in other units.
     */
    String signature() {
        return (algorithm == Algorithm.TOKEN_BUCKET ? "tb" : "lb") + ":" + rate + ":" + period.toMillis() + "ms:"
                + burst;
    }
}
