package dev.modelgate.plugins.circuitbreaker;

/**
 * The recent calls of a closed circuit, by count or by time. Implementations are thread-safe: many request threads
 * record into one window at once.
 */
interface SlidingWindow {

    /**
     * Adds one call that completed at {@code nowNanos} and returns the totals of the window with it.
     *
     * @param failed whether the call failed
     * @param slow whether the call took {@code slow-call-duration} or longer
     */
    Snapshot record(long nowNanos, boolean failed, boolean slow);

    /** Builds the empty window {@code config} describes. */
    static SlidingWindow of(CircuitBreakerConfig config) {
        return switch (config.windowType()) {
            case COUNT -> new CountWindow(config.windowSize());
            case TIME -> new TimeWindow(config.windowSize());
        };
    }

    /**
     * The totals of a window at one moment.
     *
     * @param calls calls in the window
     * @param failures failed calls among them
     * @param slowCalls slow calls among them, failed or not
     */
    record Snapshot(int calls, int failures, int slowCalls) {

        /** Failed calls in percent of all calls; 0 for an empty window. */
        double failureRate() {
            return percent(failures);
        }

        /** Slow calls in percent of all calls; 0 for an empty window. */
        double slowCallRate() {
            return percent(slowCalls);
        }

        private double percent(int part) {
            return calls == 0 ? 0 : part * 100.0 / calls;
        }
    }
}
