package dev.modelgate.plugins.retry;

import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongSupplier;

/**
 * Finagle's retry budget: over a sliding window of the last {@link #WINDOW_SECONDS} seconds, retries may number at
 * most {@code budget-percent} of the requests plus {@code min-retries-per-second} for each second of the window. A
 * failing backend so sees at most that much extra load from retries, however many attempts each request may make,
 * while one that fails now and then still gets its few retries.
 *
 * <p>Counts are kept in one-second buckets, so the window slides a second at a time. Time is monotonic and measured
 * only as the difference from the current bucket's start, as {@link System#nanoTime} may be negative and wrap.
 * Thread-safety: called concurrently; holds a lock for a few additions, never while blocking.
 */
final class RetryBudget {

    static final int WINDOW_SECONDS = 10;
    private static final long BUCKET_NANOS = 1_000_000_000L;

    private final int percent;
    private final long reserve;
    private final LongSupplier nanoTime;
    private final ReentrantLock lock = new ReentrantLock();
    /** Guarded by {@link #lock}: counts per bucket, a ring whose slot {@link #currentSlot} counts now. */
    private final long[] requests = new long[WINDOW_SECONDS];
    private final long[] retries = new long[WINDOW_SECONDS];
    private int currentSlot;
    /** Guarded by {@link #lock}: when the current bucket began, in {@link #nanoTime} terms. */
    private long currentStart;

    /** @param nanoTime a monotonic time source, in nanoseconds; {@link System#nanoTime} outside tests */
    RetryBudget(RetrySettings settings, LongSupplier nanoTime) {
        this.percent = settings.budgetPercent();
        this.reserve = (long) settings.minRetriesPerSecond() * WINDOW_SECONDS;
        this.nanoTime = nanoTime;
        this.currentStart = nanoTime.getAsLong();
    }

    /** Counts a request, its first attempt: what the budget is a share of. */
    void recordRequest() {
        lock.lock();
        try {
            requests[slide()]++;
        } finally {
            lock.unlock();
        }
    }

    /** Takes one retry from the budget: {@code false}, taking nothing, when the budget is spent. */
    boolean tryRetry() {
        lock.lock();
        try {
            int bucket = slide();
            // In hundredths, so that 20% of 10 requests is exactly 2 retries.
            if ((sum(retries) + 1) * 100 > sum(requests) * percent + reserve * 100) {
                return false;
            }
            retries[bucket]++;
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** Empties the buckets that fell out of the window since the last call; returns the current bucket's slot. */
    private int slide() {
        long passed = (nanoTime.getAsLong() - currentStart) / BUCKET_NANOS;
        if (passed > 0) {
            for (long i = 1; i <= Math.min(passed, WINDOW_SECONDS); i++) {
                int slot = (int) ((currentSlot + i) % WINDOW_SECONDS);
                requests[slot] = 0;
                retries[slot] = 0;
            }
            currentSlot = (int) ((currentSlot + passed) % WINDOW_SECONDS);
            // By whole buckets, not to now: every bucket spans a full second, however long the budget sat unused.
            currentStart += passed * BUCKET_NANOS;
        }
        return currentSlot;
    }

    private static long sum(long[] counts) {
        long sum = 0;
        for (long count : counts) {
            sum += count;
        }
        return sum;
    }
}
