package dev.modelgate.kernel;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Counts the requests being answered so that shutdown can wait for them. Once draining, no request is admitted.
 * Thread-safe; a lock (not {@code synchronized}) so waiting never pins a virtual thread's carrier.
 */
final class InFlightRequests {

    private final AtomicLong count = new AtomicLong();
    private final AtomicBoolean draining = new AtomicBoolean();
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition idle = lock.newCondition();

    /**
     * Counts a request until its {@link #exit()}, whether admitted or not (a refusal's answer must be flushed before
     * shutdown too); {@code false} once draining, and the caller must then refuse it.
     */
    boolean enter() {
        count.incrementAndGet();
        return !draining.get();
    }

    /** The requests admitted and not yet answered. */
    long count() {
        return count.get();
    }

    /** Marks a request as answered. */
    void exit() {
        if (count.decrementAndGet() == 0 && draining.get()) {
            lock.lock();
            try {
                idle.signalAll();
            } finally {
                lock.unlock();
            }
        }
    }

    /** Stops admitting: from now on {@link #enter()} refuses. */
    void stopAdmitting() {
        draining.set(true);
    }

    /** Waits up to {@code deadline} for the admitted requests to finish; {@code true} when none is left. */
    boolean awaitIdle(Duration deadline) throws InterruptedException {
        long end = System.nanoTime() + deadline.toNanos();
        lock.lock();
        try {
            while (count.get() > 0) {
                long remaining = end - System.nanoTime();
                if (remaining <= 0) {
                    return false;
                }
                // A request may finish between the count check and the wait; waking now and then covers that race.
                idle.awaitNanos(Math.min(remaining, TimeUnit.MILLISECONDS.toNanos(50)));
            }
            return true;
        } finally {
            lock.unlock();
        }
    }

    boolean isDraining() {
        return draining.get();
    }
}
