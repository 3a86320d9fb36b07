package dev.modelgate.plugins.circuitbreaker;

import java.util.concurrent.locks.ReentrantLock;

/**
 * The last {@code size} calls, in a ring of one byte per call, with running totals so a record costs the same
 * whatever the size. Thread-safe: a lock guards the ring for the few instructions of a record (a
 * {@link ReentrantLock}, which never pins a virtual thread's carrier).
 */
final class CountWindow implements SlidingWindow {

    private static final byte FAILED = 1;
    private static final byte SLOW = 2;

    private final ReentrantLock lock = new ReentrantLock();
    private final byte[] ring;
    private int next;
    private int calls;
    private int failures;
    private int slowCalls;

    CountWindow(int size) {
        this.ring = new byte[size];
    }

    @Override
    public Snapshot record(long nowNanos, boolean failed, boolean slow) {
        byte outcome = (byte) ((failed ? FAILED : 0) | (slow ? SLOW : 0));
        lock.lock();
        try {
            if (calls == ring.length) {
                // Full: the oldest call, in the slot about to be reused, leaves the window.
                byte evicted = ring[next];
                failures -= evicted & FAILED;
                slowCalls -= (evicted & SLOW) >> 1;
            } else {
                calls++;
            }
            ring[next] = outcome;
            next = (next + 1) % ring.length;
            failures += outcome & FAILED;
            slowCalls += (outcome & SLOW) >> 1;
            return new Snapshot(calls, failures, slowCalls);
        } finally {
            lock.unlock();
        }
    }
}
