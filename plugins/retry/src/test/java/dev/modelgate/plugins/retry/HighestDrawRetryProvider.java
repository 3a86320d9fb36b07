package dev.modelgate.plugins.retry;

/**
 * Test filter {@code retry-highest-draw}: {@code retry} with its randomness fixed, so that every backoff is the
 * whole of its cap and a test knows how long each would be.
 */
public final class HighestDrawRetryProvider extends RetryProvider {

    public HighestDrawRetryProvider() {
        // Every bit set: nextDouble() draws its largest value, just below 1.
        super(() -> -1L);
    }

    @Override
    public String type() {
        return "retry-highest-draw";
    }
}
