package dev.modelgate.plugins.bulkhead;

import dev.modelgate.spi.Chain;
import dev.modelgate.spi.ErrorCode;
import dev.modelgate.spi.Exchange;
import dev.modelgate.spi.Metrics;
import dev.modelgate.spi.Middleware;
import dev.modelgate.spi.Operation;
import dev.modelgate.spi.Response;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * Bounds the predict calls in progress to each backend its requests reach, with one fair {@link Semaphore} per
 * backend: a call takes a place for as long as the rest of the pipeline runs, waiting at most {@code max-wait} (and
 * never past the request's deadline) for one to free up, and is refused with {@code bulkhead full} otherwise. Other
 * operations do not call the backend and pass through.
 *
 * <p>Thread-safe. Waiting parks the request's virtual thread, which frees its carrier.
 */
final class BulkheadMiddleware implements Middleware {

    /** A backend's places and the counter of the calls refused for want of one. */
    private record Compartment(Semaphore places, Metrics.Counter rejected) {
    }

    private final BulkheadConfig config;
    private final ErrorCode full;
    private final Metrics metrics;
    private final ConcurrentMap<String, Compartment> compartments = new ConcurrentHashMap<>();

    BulkheadMiddleware(BulkheadConfig config, ErrorCode full, Metrics metrics) {
        this.config = config;
        this.full = full;
        this.metrics = metrics;
    }

    @Override
    public Response handle(Exchange exchange, Chain chain) {
        String backend = exchange.backendName();
        if (backend == null || exchange.operation() != Operation.PREDICT) {
            return chain.proceed();
        }
        // Backend names come from the configuration, so this map holds at most one entry per configured backend.
        Compartment compartment = compartments.computeIfAbsent(backend, this::compartment);
        // The exchange's deadline is on System.nanoTime by contract. With no time left the wait is zero: a fair
        // semaphore still hands out a free place, but only to whoever has waited longest.
        long waitNanos = Math.max(0, Math.min(config.maxWait().toNanos(), exchange.deadlineNanos() - System.nanoTime()));
        boolean entered;
        try {
            entered = compartment.places().tryAcquire(waitNanos, TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            entered = false;
        }
        if (!entered) {
            compartment.rejected().increment();
            return exchange.error(full, config.maxConcurrentCalls() + " calls to the model's backend are in progress");
        }
        try {
            return chain.proceed();
        } finally {
            compartment.places().release();
        }
    }

    private Compartment compartment(String backend) {
        Map<String, String> labels = Map.of("backend", backend);
        Semaphore places = new Semaphore(config.maxConcurrentCalls(), true);
        metrics.gauge("modelgate_bulkhead_in_flight", "Calls in progress per backend, as the bulkhead counts them.",
                labels, () -> config.maxConcurrentCalls() - places.availablePermits());
        metrics.gauge("modelgate_bulkhead_waiting", "Calls waiting for a place per backend.", labels,
                places::getQueueLength);
        return new Compartment(places, metrics.counter("modelgate_bulkhead_rejected_total",
                "Calls refused because the backend's bulkhead was full.", labels));
    }
}
