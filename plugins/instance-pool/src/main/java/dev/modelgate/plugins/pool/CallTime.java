package dev.modelgate.plugins.pool;

import dev.modelgate.spi.CoreErrors;
import dev.modelgate.spi.Exchange;
import dev.modelgate.spi.RejectionException;
import java.time.Duration;

/**
 * How long one call to an instance may wait for its answer: the backend's own timeout, or less when the request's
 * deadline comes first.
 *
 * @param waitNanos the time the call may take, more than 0
 * @param cutByDeadline whether the request's deadline, not the backend's timeout, set it: running out of it is then
 *     no fault of the instance, and the client is told its deadline passed
 */
public record CallTime(long waitNanos, boolean cutByDeadline) {

    /**
     * The time a call of {@code exchange} may take under {@code timeout}.
     *
     * @throws RejectionException with {@link CoreErrors#DEADLINE_EXCEEDED} when the deadline has passed already
     */
    public static CallTime of(Exchange exchange, Duration timeout) {
        long waitNanos = timeout.toNanos();
        if (exchange.deadlineNanos() == Long.MAX_VALUE) {
            return new CallTime(waitNanos, false);
        }
        long left = exchange.deadlineNanos() - System.nanoTime();
        if (left <= 0) {
            throw new RejectionException(CoreErrors.DEADLINE_EXCEEDED, "before the backend was called");
        }
        return new CallTime(Math.min(waitNanos, left), left < waitNanos);
    }

    /** What the client is told when the call ran out of the request's time. */
    public static RejectionException deadlineExceeded() {
        return new RejectionException(CoreErrors.DEADLINE_EXCEEDED, "while waiting for the backend");
    }
}
