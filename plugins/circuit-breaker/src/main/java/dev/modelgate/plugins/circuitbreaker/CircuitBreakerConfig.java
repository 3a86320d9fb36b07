package dev.modelgate.plugins.circuitbreaker;

import java.time.Duration;
import java.util.Objects;

/**
 * The settings of one circuit breaker, as resilience4j's {@code CircuitBreakerConfig}: immutable, built with a
 * {@link Builder} that rejects each bad value by its config key. Thread-safe.
 */
public final class CircuitBreakerConfig {

    /** How the sliding window of recent calls is measured. */
    public enum WindowType {
        /** The last {@code window-size} calls. */
        COUNT,
        /** The calls of the last {@code window-size} seconds, in one bucket per second. */
        TIME
    }

    public static final WindowType DEFAULT_WINDOW_TYPE = WindowType.COUNT;
    public static final int DEFAULT_COUNT_WINDOW_SIZE = 100;
    public static final Duration DEFAULT_TIME_WINDOW_SIZE = Duration.ofSeconds(60);
    /** For a count window smaller than this, the window's size. */
    public static final int DEFAULT_MINIMUM_CALLS = 10;
    public static final int DEFAULT_FAILURE_RATE_THRESHOLD = 50;
    public static final int DEFAULT_SLOW_CALL_RATE_THRESHOLD = 100;
    public static final Duration DEFAULT_SLOW_CALL_DURATION = Duration.ofSeconds(60);
    public static final Duration DEFAULT_WAIT_IN_OPEN = Duration.ofSeconds(60);
    public static final int DEFAULT_PERMITTED_CALLS_IN_HALF_OPEN = 10;
    /** {@link Duration#ZERO}: half-open lasts until its permitted calls have completed. */
    public static final Duration DEFAULT_MAX_WAIT_IN_HALF_OPEN = Duration.ZERO;

    /** A count window keeps one byte per call; this bounds its memory per backend. */
    static final int MAX_COUNT_WINDOW_SIZE = 100_000;
    /** A time window keeps one bucket per second. */
    static final Duration MAX_TIME_WINDOW_SIZE = Duration.ofHours(1);
    static final int MAX_PERMITTED_CALLS_IN_HALF_OPEN = 10_000;

    private final WindowType windowType;
    private final int windowSize;
    private final int minimumCalls;
    private final int failureRateThreshold;
    private final int slowCallRateThreshold;
    private final Duration slowCallDuration;
    private final Duration waitInOpen;
    private final int permittedCallsInHalfOpen;
    private final Duration maxWaitInHalfOpen;

    private CircuitBreakerConfig(Builder builder) {
        this.windowType = builder.windowType;
        this.windowSize = builder.windowSize;
        this.minimumCalls = builder.minimumCalls != null ? builder.minimumCalls
                : builder.windowType == WindowType.COUNT ? Math.min(DEFAULT_MINIMUM_CALLS, builder.windowSize)
                : DEFAULT_MINIMUM_CALLS;
        this.failureRateThreshold = builder.failureRateThreshold;
        this.slowCallRateThreshold = builder.slowCallRateThreshold;
        this.slowCallDuration = builder.slowCallDuration;
        this.waitInOpen = builder.waitInOpen;
        this.permittedCallsInHalfOpen = builder.permittedCallsInHalfOpen;
        this.maxWaitInHalfOpen = builder.maxWaitInHalfOpen;
    }

    public static Builder builder() {
        return new Builder();
    }

    public static CircuitBreakerConfig ofDefaults() {
        return builder().build();
    }

    public WindowType windowType() {
        return windowType;
    }

    /** Calls for a {@link WindowType#COUNT} window, seconds for a {@link WindowType#TIME} window. */
    public int windowSize() {
        return windowSize;
    }

    /** Calls the window must hold before a rate is judged. */
    public int minimumCalls() {
        return minimumCalls;
    }

    /** Percent of failed calls at or above which the circuit opens. */
    public int failureRateThreshold() {
        return failureRateThreshold;
    }

    /** Percent of slow calls at or above which the circuit opens. */
    public int slowCallRateThreshold() {
        return slowCallRateThreshold;
    }

    /** A call that takes this long or longer is slow. */
    public Duration slowCallDuration() {
        return slowCallDuration;
    }

    /** How long the circuit stays open before it lets trial calls through. */
    public Duration waitInOpen() {
        return waitInOpen;
    }

    /** Trial calls let through while half-open; the circuit decides once they have all completed. */
    public int permittedCallsInHalfOpen() {
        return permittedCallsInHalfOpen;
    }

    /** How long half-open may wait for its trial calls before it opens again; zero for no limit. */
    public Duration maxWaitInHalfOpen() {
        return maxWaitInHalfOpen;
    }

    /** A value the builder refused, with the config key it belongs to. */
    public static final class InvalidValueException extends IllegalArgumentException {

        private final String key;
        private final String reason;

        InvalidValueException(String key, String reason) {
            super(key + " " + reason);
            this.key = key;
            this.reason = reason;
        }

        /** The config key, such as {@code failure-rate-threshold}. */
        public String key() {
            return key;
        }

        /** Why the value was refused: {@code must be between 1 and 100, but was 120}. */
        public String reason() {
            return reason;
        }
    }

    /**
     * Builds a {@link CircuitBreakerConfig}. Each setter rejects a bad value at once with an
     * {@link InvalidValueException} naming its key and keeps the value it had; {@link #build()} checks the values
     * against each other. Not thread-safe.
     */
    public static final class Builder {

        private WindowType windowType = DEFAULT_WINDOW_TYPE;
        private int windowSize = DEFAULT_COUNT_WINDOW_SIZE;
        /** {@code null} until set: the default depends on the window. */
        private Integer minimumCalls;
        private int failureRateThreshold = DEFAULT_FAILURE_RATE_THRESHOLD;
        private int slowCallRateThreshold = DEFAULT_SLOW_CALL_RATE_THRESHOLD;
        private Duration slowCallDuration = DEFAULT_SLOW_CALL_DURATION;
        private Duration waitInOpen = DEFAULT_WAIT_IN_OPEN;
        private int permittedCallsInHalfOpen = DEFAULT_PERMITTED_CALLS_IN_HALF_OPEN;
        private Duration maxWaitInHalfOpen = DEFAULT_MAX_WAIT_IN_HALF_OPEN;

        private Builder() {
        }

        /** A window of the last {@code calls} calls. */
        public Builder countWindow(int calls) {
            requireBetween("window-size", calls, 1, MAX_COUNT_WINDOW_SIZE);
            this.windowType = WindowType.COUNT;
            this.windowSize = calls;
            return this;
        }

        /** A window of the calls of the last {@code size}, a whole number of seconds. */
        public Builder timeWindow(Duration size) {
            requirePositive("window-size", size);
            if (size.toMillis() % 1000 != 0) {
                throw new InvalidValueException("window-size",
                        "must be a whole number of seconds in a time window, but was " + size.toMillis() + "ms");
            }
            if (size.compareTo(MAX_TIME_WINDOW_SIZE) > 0) {
                throw new InvalidValueException("window-size",
                        "must be at most 1h in a time window, but was " + size.toSeconds() + "s");
            }
            this.windowType = WindowType.TIME;
            this.windowSize = (int) size.toSeconds();
            return this;
        }

        public Builder minimumCalls(int calls) {
            requireBetween("minimum-calls", calls, 1, Integer.MAX_VALUE);
            this.minimumCalls = calls;
            return this;
        }

        public Builder failureRateThreshold(int percent) {
            requireBetween("failure-rate-threshold", percent, 1, 100);
            this.failureRateThreshold = percent;
            return this;
        }

        public Builder slowCallRateThreshold(int percent) {
            requireBetween("slow-call-rate-threshold", percent, 1, 100);
            this.slowCallRateThreshold = percent;
            return this;
        }

        public Builder slowCallDuration(Duration duration) {
            requirePositive("slow-call-duration", duration);
            this.slowCallDuration = duration;
            return this;
        }

        public Builder waitInOpen(Duration duration) {
            requirePositive("wait-in-open", duration);
            this.waitInOpen = duration;
            return this;
        }

        public Builder permittedCallsInHalfOpen(int calls) {
            requireBetween("permitted-calls-in-half-open", calls, 1, MAX_PERMITTED_CALLS_IN_HALF_OPEN);
            this.permittedCallsInHalfOpen = calls;
            return this;
        }

        /** Zero for no limit. */
        public Builder maxWaitInHalfOpen(Duration duration) {
            Objects.requireNonNull(duration, "max-wait-in-half-open");
            if (duration.isNegative()) {
                throw new InvalidValueException("max-wait-in-half-open",
                        "must not be negative, but was " + duration.toMillis() + "ms");
            }
            this.maxWaitInHalfOpen = duration;
            return this;
        }

        /**
         * @throws InvalidValueException when a count window is smaller than {@code minimum-calls}: its rates could
         *     never be judged, so the circuit could never open
         */
        public CircuitBreakerConfig build() {
            if (windowType == WindowType.COUNT && minimumCalls != null && minimumCalls > windowSize) {
                throw new InvalidValueException("minimum-calls", "must not be more than window-size (" + windowSize
                        + ") in a count window, but was " + minimumCalls);
            }
            return new CircuitBreakerConfig(this);
        }

        private static void requireBetween(String key, int value, int min, int max) {
            if (value < min || value > max) {
                throw new InvalidValueException(key, "must be between " + min + " and " + max + ", but was " + value);
            }
        }

        private static void requirePositive(String key, Duration duration) {
            Objects.requireNonNull(duration, key);
            if (duration.isNegative() || duration.isZero()) {
                throw new InvalidValueException(key, "must be positive, but was " + duration.toMillis() + "ms");
            }
        }
    }
}
