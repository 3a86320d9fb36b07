package dev.modelgate.plugins.ratelimit;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongSupplier;

/**
 * The in-process store: the state of every limit of one key lives in one immutable {@code long[]} behind an
 * {@link AtomicReference}, replaced by compare-and-set. A request reads the state, works out every limit, and only
 * when all admit it swaps in the charged state; a lost race starts over. So the limits of a key are checked and
 * charged as one atomic step, a refused request charges nothing, and no request is ever admitted beyond
 * {@code burst + rate * elapsed} of any limit, however many threads race. Thread-safe and lock-free on the request
 * path.
 *
 * <p>Memory is bounded by {@code maxKeys}. A key whose buckets are all full again holds nothing a fresh key would
 * not, so dropping it loses nothing: a sweep drops such keys every {@code max(10s, longest refill time)}. When an
 * insert takes the map past {@code maxKeys} (by at most the number of threads inserting at that moment), the inserting
 * request sweeps at once and, if full keys were not enough, also drops the keys that will be full soonest until a
 * quarter of the room is free: those are the ones a fresh start favours least. Only one sweep runs at a time (a
 * {@link ReentrantLock#tryLock}); eviction is itself a compare-and-set, so a request racing it retries on a fresh
 * entry instead of charging a dropped one.
 *
 * <p>Time comes from the injected monotonic source, in nanoseconds: a wall clock stepped back would leave stored
 * times in the future, freezing refill (and holding leaky buckets shut) for as long as the step. Each attempt reads
 * the time after the state, so no state is ever newer than the time it is judged at. Times are only ever compared by
 * their difference, as {@link System#nanoTime} may be negative and wrap.
 */
final class LocalLimiter implements Limiter {

    /** Replaces the state of an evicted key: whoever still holds its entry must look the key up again. */
    private static final long[] EVICTED = new long[0];
    private static final long MIN_SWEEP_INTERVAL_NANOS = 10_000_000_000L;

    private record Candidate(String key, AtomicReference<long[]> bucket, long[] state, long untilFull) {
    }

    private final List<Limit> limits;
    private final Limit[] limitArray;
    private final LongSupplier nanoTime;
    private final int maxKeys;
    private final long sweepIntervalNanos;
    private final ConcurrentHashMap<String, AtomicReference<long[]>> buckets = new ConcurrentHashMap<>();
    private final ReentrantLock sweeping = new ReentrantLock();
    private volatile long nextSweepNanos;

    /** @param nanoTime a monotonic time source, {@link System#nanoTime} outside tests */
    LocalLimiter(List<Limit> limits, LongSupplier nanoTime, int maxKeys) {
        if (limits.isEmpty() || maxKeys < 1) {
            throw new IllegalArgumentException("at least one limit and one key are required");
        }
        this.limits = List.copyOf(limits);
        this.limitArray = this.limits.toArray(Limit[]::new);
        this.nanoTime = nanoTime;
        this.maxKeys = maxKeys;
        long longestRefill = 0;
        for (Limit limit : limitArray) {
            longestRefill = Math.max(longestRefill, limit.burst() * limit.periodNanos() / limit.rate());
        }
        this.sweepIntervalNanos = Math.max(MIN_SWEEP_INTERVAL_NANOS, longestRefill);
        this.nextSweepNanos = nanoTime.getAsLong() + sweepIntervalNanos;
    }

    /** The number of keys held now. */
    int size() {
        return buckets.size();
    }

    @Override
    public Decision decide(String key) {
        Decision.Outcome[] outcomes = new Decision.Outcome[limitArray.length];
        boolean inserted = false;
        while (true) {
            AtomicReference<long[]> bucket = buckets.get(key);
            if (bucket == null) {
                AtomicReference<long[]> created = new AtomicReference<>(fresh(nanoTime.getAsLong()));
                bucket = buckets.putIfAbsent(key, created);
                if (bucket == null) {
                    inserted = true;
                    bucket = created;
                }
            }
            long[] state = bucket.get();
            if (state == EVICTED) {
                buckets.remove(key, bucket);
                continue;
            }
            long now = nanoTime.getAsLong();
            long[] next = new long[state.length];
            boolean admitted = true;
            for (int i = 0; i < limitArray.length; i++) {
                outcomes[i] = limitArray[i].algorithm() == Limit.Algorithm.TOKEN_BUCKET
                        ? tokenBucket(limitArray[i], state, next, 2 * i, now)
                        : leakyBucket(limitArray[i], state, next, 2 * i, now);
                admitted &= outcomes[i].admitted();
            }
            // A refused request writes nothing: working out the refill again later gives the same answer.
            if (admitted && !bucket.compareAndSet(state, next)) {
                continue;
            }
            if (inserted && buckets.size() > maxKeys) {
                sweep(now, maxKeys - maxKeys / 4);
            } else if (now - nextSweepNanos >= 0) {
                sweep(now, Integer.MAX_VALUE);
            }
            return Decision.of(limits, outcomes);
        }
    }

    /** State {@code [tokens, last refill]} of a token bucket; a token is worth {@code period} units. */
    private static Decision.Outcome tokenBucket(Limit limit, long[] state, long[] next, int at, long now) {
        long unit = limit.periodNanos();
        long capacity = limit.burst() * unit;
        long rate = limit.rate();
        // Capped before multiplying, so that a key idle for years cannot overflow.
        long elapsed = Math.min(Math.max(0, now - state[at + 1]), ceilDiv(capacity, rate));
        long tokens = Math.min(capacity, state[at] + elapsed * rate);
        next[at + 1] = now;
        if (tokens >= unit) {
            next[at] = tokens - unit;
            return new Decision.Outcome(true, next[at] / unit, ceilDiv(capacity - next[at], rate), 0);
        }
        next[at] = tokens;
        return new Decision.Outcome(false, 0, ceilDiv(capacity - tokens, rate), ceilDiv(unit - tokens, rate));
    }

    /** State {@code [theoretical arrival time, unused]} of a leaky bucket run as GCRA. */
    private static Decision.Outcome leakyBucket(Limit limit, long[] state, long[] next, int at, long now) {
        long interval = limit.intervalNanos();
        long span = limit.burst() * interval;
        long tat = state[at] - now > 0 ? state[at] : now;
        long admittedTat = tat + interval;
        if (admittedTat - now <= span) {
            next[at] = admittedTat;
            return new Decision.Outcome(true, (span - (admittedTat - now)) / interval, admittedTat - now, 0);
        }
        next[at] = tat;
        return new Decision.Outcome(false, Math.max(0, (span - (tat - now)) / interval), tat - now,
                admittedTat - now - span);
    }

    /** The state of a key seen for the first time: every bucket full. */
    private long[] fresh(long now) {
        long[] state = new long[2 * limitArray.length];
        for (int i = 0; i < limitArray.length; i++) {
            Limit limit = limitArray[i];
            boolean tokenBucket = limit.algorithm() == Limit.Algorithm.TOKEN_BUCKET;
            state[2 * i] = tokenBucket ? limit.burst() * limit.periodNanos() : now;
            state[2 * i + 1] = now;
        }
        return state;
    }

    /**
     * How long after {@code now} every bucket of {@code state} is full again, so that the key can go without loss;
     * zero or less when it already is. Relative, so that keys compare correctly across a wrap of the time source.
     */
    private long untilFull(long[] state, long now) {
        long untilFull = Long.MIN_VALUE;
        for (int i = 0; i < limitArray.length; i++) {
            Limit limit = limitArray[i];
            long until = limit.algorithm() == Limit.Algorithm.TOKEN_BUCKET
                    ? state[2 * i + 1] - now
                            + ceilDiv(limit.burst() * limit.periodNanos() - state[2 * i], limit.rate())
                    : state[2 * i] - now;
            untilFull = Math.max(untilFull, until);
        }
        return untilFull;
    }

    /**
     * Drops every key that is full at {@code now} and, past that, the keys full soonest until at most {@code target}
     * remain. Runs on the request thread that found it due; returns at once if another thread is sweeping.
     */
    private void sweep(long now, int target) {
        if (!sweeping.tryLock()) {
            return;
        }
        try {
            nextSweepNanos = now + sweepIntervalNanos;
            boolean overBound = target < buckets.size();
            List<Candidate> candidates = new ArrayList<>();
            buckets.forEach((key, bucket) -> {
                long[] state = bucket.get();
                if (state == EVICTED) {
                    return;
                }
                long untilFull = untilFull(state, now);
                if (untilFull <= 0) {
                    evict(key, bucket, state);
                } else if (overBound) {
                    candidates.add(new Candidate(key, bucket, state, untilFull));
                }
            });
            int excess = buckets.size() - target;
            if (excess > 0) {
                candidates.sort(Comparator.comparingLong(Candidate::untilFull));
                for (Candidate candidate : candidates.subList(0, Math.min(excess, candidates.size()))) {
                    evict(candidate.key(), candidate.bucket(), candidate.state());
                }
            }
        } finally {
            sweeping.unlock();
        }
    }

    /** Drops {@code key} unless a request charged it since {@code state} was read. */
    private void evict(String key, AtomicReference<long[]> bucket, long[] state) {
        if (bucket.compareAndSet(state, EVICTED)) {
            buckets.remove(key, bucket);
        }
    }

    private static long ceilDiv(long dividend, long divisor) {
        return dividend <= 0 ? 0 : (dividend - 1) / divisor + 1;
    }
}
