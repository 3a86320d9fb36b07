package dev.modelgate.plugins.bulkhead;

import java.time.Duration;
import java.util.Objects;

/**
 * The settings of a bulkhead, as resilience4j's {@code BulkheadConfig}. Immutable; the constructor rejects a bad
 * value by its config key.
 *
 * @param maxConcurrentCalls calls one backend may have in progress at once
 * @param maxWait how long a call waits for a free place before it is refused; zero to refuse at once
 */
public record BulkheadConfig(int maxConcurrentCalls, Duration maxWait) {

    public static final int DEFAULT_MAX_CONCURRENT_CALLS = 25;
    public static final Duration DEFAULT_MAX_WAIT = Duration.ZERO;
    static final int MAX_MAX_CONCURRENT_CALLS = 1_000_000;

    public BulkheadConfig {
        if (maxConcurrentCalls < 1 || maxConcurrentCalls > MAX_MAX_CONCURRENT_CALLS) {
            throw new IllegalArgumentException("max-concurrent-calls must be between 1 and "
                    + MAX_MAX_CONCURRENT_CALLS + ", but was " + maxConcurrentCalls);
        }
        Objects.requireNonNull(maxWait, "max-wait");
        if (maxWait.isNegative()) {
            throw new IllegalArgumentException("max-wait must not be negative, but was " + maxWait.toMillis() + "ms");
        }
    }
}
