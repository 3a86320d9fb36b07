package dev.modelgate.plugins.pool;

import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongSupplier;

/**
 * Passive ejection, as Envoy's consecutive-5xx outlier detection: an instance whose last
 * {@code consecutive-failures} calls all failed is ejected for {@code base-ejection-time} times the number of its
 * ejections (at most {@code max-ejection-time}), unless that would eject more than {@code max-ejection-percent} of
 * the instances (at least one may always be). It comes back by itself when the time is up, with its failure count at
 * zero; each {@code base-ejection-time} it then stays in without an ejection takes one off its multiplier.
 *
 * <p>Thread-safety: called concurrently from many virtual threads. Success and the ejection check are lock-free; the
 * ejection decision holds a lock briefly and never blocks.
 */
final class OutlierDetector {

    private final OutlierDetectionSettings settings;
    private final LongSupplier nanoTime;
    private final AtomicIntegerArray consecutiveFailures;
    /** By instance: how many times it was ejected; 0 means {@link #ejectedUntil} holds nothing yet. */
    private final AtomicIntegerArray ejections;
    /** By instance: when its current or last ejection ends, in {@link #nanoTime} terms. */
    private final AtomicLongArray ejectedUntil;
    /** By instance: how many base times its last ejection lasted; guarded by {@link #lock}. */
    private final int[] multiplier;
    private final ReentrantLock lock = new ReentrantLock();

    /**
     * @param settings {@code null} to never eject
     * @param instances how many instances the backend has
     * @param nanoTime the time source, in nanoseconds; any origin, as only differences count
     */
    OutlierDetector(OutlierDetectionSettings settings, int instances, LongSupplier nanoTime) {
        this.settings = settings;
        this.nanoTime = nanoTime;
        this.consecutiveFailures = new AtomicIntegerArray(instances);
        this.ejections = new AtomicIntegerArray(instances);
        this.ejectedUntil = new AtomicLongArray(instances);
        this.multiplier = new int[instances];
    }

    /** Whether the instance of {@code index} is ejected now. */
    boolean ejected(int index) {
        return ejected(index, nanoTime.getAsLong());
    }

    private boolean ejected(int index, long now) {
        // Differences, not comparisons, as System.nanoTime may be negative and wrap.
        return ejections.get(index) > 0 && now - ejectedUntil.get(index) < 0;
    }

    /** Records a call that succeeded (any answer below 500, 4xx included: the instance works). */
    void recordSuccess(int index) {
        if (settings != null && consecutiveFailures.get(index) != 0) {
            consecutiveFailures.set(index, 0);
        }
    }

    /**
     * Records a failed call: no connection, no answer in time, a broken connection or a 5xx answer.
     *
     * @return the length of the ejection this failure started, or {@code 0} when it started none
     */
    long recordFailure(int index) {
        if (settings == null || consecutiveFailures.incrementAndGet(index) < settings.consecutiveFailures()) {
            return 0;
        }
        lock.lock();
        try {
            long now = nanoTime.getAsLong();
            if (ejected(index, now) || ejectedCount(now) + 1 > maxEjected()) {
                // Still counting: the next failure tries again, when another instance may have come back.
                return 0;
            }
            long base = settings.baseEjectionTime().toNanos();
            if (ejections.get(index) > 0) {
                // Envoy lowers the multiplier while the instance stays healthy; here, once per base time it stayed in.
                long stayedIn = now - ejectedUntil.get(index);
                multiplier[index] = (int) Math.max(0, multiplier[index] - stayedIn / base);
            }
            multiplier[index]++;
            long duration = Math.min(settings.maxEjectionTime().toNanos(),
                    base * Math.min(multiplier[index], Long.MAX_VALUE / base));
            ejectedUntil.set(index, now + duration);
            ejections.incrementAndGet(index);
            consecutiveFailures.set(index, 0);
            return duration;
        } finally {
            lock.unlock();
        }
    }

    private int ejectedCount(long now) {
        int count = 0;
        for (int i = 0; i < multiplier.length; i++) {
            if (ejected(i, now)) {
                count++;
            }
        }
        return count;
    }

    private int maxEjected() {
        return Math.max(1, multiplier.length * settings.maxEjectionPercent() / 100);
    }
}
