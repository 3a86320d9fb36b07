package dev.modelgate.plugins.retry;

import dev.modelgate.spi.Chain;
import dev.modelgate.spi.Exchange;
import dev.modelgate.spi.Metrics;
import dev.modelgate.spi.Middleware;
import dev.modelgate.spi.Operation;
import dev.modelgate.spi.Response;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.function.LongSupplier;
import java.util.random.RandomGenerator;

/**
 * Runs the rest of the pipeline again while its response carries a retryable code: for idempotent predict requests
 * only, at most {@code attempts} times in all, after a full-jitter backoff, within the backend's retry budget, and
 * never when the backoff would end past the request's deadline. Answers with the last response.
 *
 * <p>The budget is per backend the requests reach, within this middleware: it is a share of that backend's recent
 * requests, so a backend that fails sees at most that much extra load, whichever routes share it. Every predict
 * request to the backend counts towards it, idempotent or not. Operations other than predict do not call the backend
 * and pass through once.
 *
 * <p>Thread-safety: one instance serves every request of the routes it is configured on. A backoff sleeps the
 * request's own virtual thread; an interrupt (the gateway stopping) ends the retries with the last response.
 */
final class RetryMiddleware implements Middleware {

    /** A backend's budget and the counters of what became of its retries. */
    private record BackendRetries(RetryBudget budget, Metrics.Counter retries, Metrics.Counter budgetExhausted) {
    }

    private final RetrySettings settings;
    private final Metrics metrics;
    private final LongSupplier budgetClock;
    private final RandomGenerator random;
    private final ConcurrentMap<String, BackendRetries> backends = new ConcurrentHashMap<>();

    /**
     * @param budgetClock the monotonic time the budget's window is measured by, in nanoseconds; {@link System#nanoTime}
     *     outside tests
     * @param random the randomness of backoffs; thread-safe
     */
    RetryMiddleware(RetrySettings settings, Metrics metrics, LongSupplier budgetClock, RandomGenerator random) {
        this.settings = settings;
        this.metrics = metrics;
        this.budgetClock = budgetClock;
        this.random = random;
    }

    @Override
    public Response handle(Exchange exchange, Chain chain) {
        String backend = exchange.backendName();
        if (backend == null || exchange.operation() != Operation.PREDICT) {
            return chain.proceed();
        }
        // Backend names come from the configuration, so this map holds at most one entry per configured backend.
        BackendRetries retries = backends.computeIfAbsent(backend, this::backendRetries);
        retries.budget().recordRequest();
        Response response = chain.proceed();
        for (int retry = 1; retry < settings.attempts() && retryable(exchange, response); retry++) {
            Duration backoff = settings.backoff(retry, random);
            // A retry that cannot start before the deadline could only be cut short: answer now instead.
            if (exchange.deadlineNanos() != Long.MAX_VALUE
                    && System.nanoTime() + backoff.toNanos() - exchange.deadlineNanos() >= 0) {
                return response;
            }
            if (!retries.budget().tryRetry()) {
                retries.budgetExhausted().increment();
                return response;
            }
            retries.retries().increment();
            if (!waitOut(backoff)) {
                return response;
            }
            response = chain.proceed();
        }
        return response;
    }

    private boolean retryable(Exchange exchange, Response response) {
        return exchange.idempotent() && settings.retries(response.code());
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

    private BackendRetries backendRetries(String backend) {
        Map<String, String> labels = Map.of("backend", backend);
        return new BackendRetries(new RetryBudget(settings, budgetClock),
                metrics.counter("modelgate_retries_total", "Predict requests run again after a retryable failure.",
                        labels),
                metrics.counter("modelgate_retry_budget_exhausted_total",
                        "Retries not made because the backend's retry budget was spent.", labels));
    }
}
