package dev.modelgate.plugins.retry;

import dev.modelgate.spi.BackendCall;
import dev.modelgate.spi.BackendChain;
import dev.modelgate.spi.BackendFilter;
import dev.modelgate.spi.BackendResult;
import dev.modelgate.spi.Exchange;
import dev.modelgate.spi.Metrics;
import java.time.Duration;
import java.util.Map;
import java.util.function.LongSupplier;
import java.util.random.RandomGenerator;

/**
 * Calls the rest of its backend's chain again while the result carries a retryable code: for idempotent requests
 * only, at most {@code attempts} times in all, after a full-jitter backoff, within the backend's retry budget, and
 * never when the backoff would end past the request's deadline. Returns the last result.
 *
 * <p>The budget is the backend's, shared by every route to it: a share of its recent calls, so a backend that fails
 * sees at most that much extra load. Every call to the backend counts towards it, idempotent or not.
 *
 * <p>Thread-safety: one instance serves every call to its backend. A backoff sleeps the request's own virtual thread;
 * an interrupt (the gateway stopping) ends the retries with the last result.
 */
final class RetryFilter implements BackendFilter {

    private final RetrySettings settings;
    private final RetryBudget budget;
    private final Metrics.Counter retries;
    private final Metrics.Counter budgetExhausted;
    private final RandomGenerator random;

    /**
     * @param backend the name of the backend whose calls it retries, for metric labels
     * @param budgetClock the monotonic time the budget's window is measured by, in nanoseconds; {@link System#nanoTime}
     *     outside tests
     * @param random the randomness of backoffs; thread-safe
     */
    RetryFilter(String backend, RetrySettings settings, Metrics metrics, LongSupplier budgetClock,
            RandomGenerator random) {
        this.settings = settings;
        this.random = random;
        this.budget = new RetryBudget(settings, budgetClock);
        Map<String, String> labels = Map.of("backend", backend);
        this.retries = metrics.counter("modelgate_retries_total",
                "Predict requests run again after a retryable failure.", labels);
        this.budgetExhausted = metrics.counter("modelgate_retry_budget_exhausted_total",
                "Retries not made because the backend's retry budget was spent.", labels);
    }

    @Override
    public BackendResult filter(BackendCall call, BackendChain chain) {
        Exchange exchange = call.exchange();
        budget.recordRequest();
        BackendResult result = chain.proceed(call);
        for (int retry = 1; retry < settings.attempts() && retryable(exchange, result); retry++) {
            Duration backoff = settings.backoff(retry, random);
            // A retry that cannot start before the deadline could only be cut short: answer now instead.
            if (exchange.deadlineNanos() != Long.MAX_VALUE
                    && System.nanoTime() + backoff.toNanos() - exchange.deadlineNanos() >= 0) {
                return result;
            }
            if (!budget.tryRetry()) {
                budgetExhausted.increment();
                return result;
            }
            retries.increment();
            if (!waitOut(backoff)) {
                return result;
            }
            result = chain.proceed(call);
        }
        return result;
    }

    private boolean retryable(Exchange exchange, BackendResult result) {
        return exchange.idempotent() && settings.retries(result.code());
    }

    /** Sleeps the request's virtual thread for {@code backoff}; {@code false} when interrupted meanwhile. */
    private static boolean waitOut(Duration backoff) {
        if (backoff.isZero()) {
            return true;
        }
        try {
            Thread.sleep(backoff);
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
