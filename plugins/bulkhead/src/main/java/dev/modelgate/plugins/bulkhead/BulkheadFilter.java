package dev.modelgate.plugins.bulkhead;

import dev.modelgate.spi.Attribute;
import dev.modelgate.spi.BackendCall;
import dev.modelgate.spi.BackendResult;
import dev.modelgate.spi.ErrorCode;
import dev.modelgate.spi.Metrics;
import dev.modelgate.spi.PhasedFilter;
import dev.modelgate.spi.Response;
import java.util.Map;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Bounds the calls in progress to one backend, shared by every route to it, with one fair {@link Semaphore}: a call
 * waits at most {@code max-wait} (and never past the request's deadline) for a place, and is refused with
 * {@code bulkhead full} otherwise.
 *
 * <p>A call holds its place for as long as the backend works on it: until the rest of the chain returns, or, for a
 * forwarded answer that streams, until the client has its last byte (or the stream broke), as the exchange's
 * completion says. A call that ends in memory gives its place back at once rather than at completion, so that a retry
 * listed before this filter never waits for the place its own failed attempt holds.
 *
 * <p>Phased: {@link #before} takes the place, {@link #after} gives it back or leaves that to the stream's completion;
 * the kernel calls {@code after} once for each call that took one. Taking a place without waiting never blocks;
 * with a {@code max-wait} it may, so the provider then hands the kernel this filter as a plain one.
 *
 * <p>Thread-safe. Waiting parks the request's virtual thread, which frees its carrier.
 */
final class BulkheadFilter implements PhasedFilter {

    private final BulkheadConfig config;
    private final ErrorCode full;
    private final Semaphore places;
    private final Metrics.Counter rejected;
    /** The place {@link #before} took for the call, which {@link #after} gives back; this instance's own key. */
    private final Attribute<Place> heldPlace = Attribute.named("bulkhead-place");

    /** @param backend the name of the backend it guards, for metric labels */
    BulkheadFilter(String backend, BulkheadConfig config, ErrorCode full, Metrics metrics) {
        this.config = config;
        this.full = full;
        this.places = new Semaphore(config.maxConcurrentCalls(), true);
        Map<String, String> labels = Map.of("backend", backend);
        metrics.gauge("modelgate_bulkhead_in_flight", "Calls in progress per backend, as the bulkhead counts them.",
                labels, () -> config.maxConcurrentCalls() - places.availablePermits());
        metrics.gauge("modelgate_bulkhead_waiting", "Calls waiting for a place per backend.", labels,
                places::getQueueLength);
        this.rejected = metrics.counter("modelgate_bulkhead_rejected_total",
                "Calls refused because the backend's bulkhead was full.", labels);
    }

    /** Whether a call may wait for a place: it then parks its thread. */
    boolean waits() {
        return !config.maxWait().isZero();
    }

    @Override
    public BackendResult before(BackendCall call) {
        // The exchange's deadline is on System.nanoTime by contract. With no time left the wait is zero: a fair
        // semaphore still hands out a free place, but only to whoever has waited longest.
        long waitNanos = Math.max(0, Math.min(config.maxWait().toNanos(),
                call.exchange().deadlineNanos() - System.nanoTime()));
        if (!enter(waitNanos)) {
            rejected.increment();
            return BackendResult.failed(full, config.maxConcurrentCalls()
                    + " calls to the model's backend are in progress");
        }
        call.exchange().setAttribute(heldPlace, new Place());
        return null;
    }

    @Override
    public BackendResult after(BackendCall call, BackendResult result) {
        Place place = call.exchange().attribute(heldPlace);
        if (streams(result)) {
            call.exchange().onComplete(failure -> place.leave());
        } else {
            place.leave();
        }
        return result;
    }

    private boolean enter(long waitNanos) {
        try {
            return places.tryAcquire(waitNanos, TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** Whether the result is the backend's answer still arriving: the backend is busy with it until its last byte. */
    private static boolean streams(BackendResult result) {
        Response forwarded = result.forwardedResponse();
        return forwarded != null && forwarded.body().length() < 0;
    }

    /** One call's place, given back exactly once however many ways the call ends. */
    private final class Place {
        private final AtomicBoolean left = new AtomicBoolean();

        void leave() {
            if (left.compareAndSet(false, true)) {
                places.release();
            }
        }
    }
}
