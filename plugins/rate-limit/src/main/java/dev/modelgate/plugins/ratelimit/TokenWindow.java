package dev.modelgate.plugins.ratelimit;

import java.time.Duration;

/**
 * One token limit: {@code capacity} tokens per {@code period} ({@code tokens-per-minute}, {@code tokens-per-day}),
 * run as a token bucket that holds up to {@code capacity} and refills continuously at {@code capacity / period}.
 * Unlike a request bucket it may go below zero: a call charged more than it reserved leaves a debt that later calls
 * wait for. Immutable.
 */
record TokenWindow(int capacity, Duration period) {

    TokenWindow {
        if (capacity < 1 || period.isNegative() || period.isZero()) {
            throw new IllegalArgumentException("capacity and period must be positive: " + capacity + ", " + period);
        }
    }

    /** Tokens regained per nanosecond. */
    double refillPerNano() {
        return (double) capacity / period.toNanos();
    }

    /** How this window appears in a Redis key, so that a changed limit starts from fresh state. */
    String signature() {
        return capacity + ":" + period.toSeconds() + "s";
    }
}
