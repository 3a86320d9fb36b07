package dev.modelgate.plugins.circuitbreaker;

import java.util.concurrent.locks.ReentrantLock;

/**
 * The calls of the last {@code seconds} seconds, counted in one bucket per second of the injected nano clock, with
 * running totals: a bucket leaves the totals when its second falls out of the window. Thread-safe: a lock guards the
 * buckets for the few instructions of a record.
 */
final class TimeWindow implements SlidingWindow {

    private static final long NANOS_PER_SECOND = 1_000_000_000L;

    private final ReentrantLock lock = new ReentrantLock();
    private final int[] bucketCalls;
    private final int[] bucketFailures;
    private final int[] bucketSlowCalls;
    private boolean started;
    private long latestSecond;
    private int calls;
    private int failures;
    private int slowCalls;

    TimeWindow(int seconds) {
        this.bucketCalls = new int[seconds];
        this.bucketFailures = new int[seconds];
        this.bucketSlowCalls = new int[seconds];
    }

    @Override
    public Snapshot record(long nowNanos, boolean failed, boolean slow) {
        long second = Math.floorDiv(nowNanos, NANOS_PER_SECOND);
        lock.lock();
        try {
            advanceTo(second);
            // A thread that read the clock just before another advanced the window counts in the newest second.
            int bucket = Math.floorMod(Math.max(second, latestSecond), bucketCalls.length);
            bucketCalls[bucket]++;
            calls++;
            if (failed) {
                bucketFailures[bucket]++;
                failures++;
            }
            if (slow) {
                bucketSlowCalls[bucket]++;
                slowCalls++;
            }
            return new Snapshot(calls, failures, slowCalls);
        } finally {
            lock.unlock();
        }
    }

    /** Empties the buckets of the seconds between the newest one seen and {@code second}, at most all of them. */
    private void advanceTo(long second) {
        if (!started) {
            started = true;
            latestSecond = second;
            return;
        }
        long steps = Math.min(second - latestSecond, bucketCalls.length);
        for (long step = 1; step <= steps; step++) {
            int bucket = Math.floorMod(latestSecond + step, bucketCalls.length);
            calls -= bucketCalls[bucket];
            failures -= bucketFailures[bucket];
            slowCalls -= bucketSlowCalls[bucket];
            bucketCalls[bucket] = 0;
            bucketFailures[bucket] = 0;
            bucketSlowCalls[bucket] = 0;
        }
        latestSecond = Math.max(latestSecond, second);
    }
}
