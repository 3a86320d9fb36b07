package dev.modelgate.plugins.ratelimit;

import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * The in-process token store: one {@link TokenBuckets} per key, changed under its own lock, so that a key's windows
 * are checked and charged as one step. Memory is bounded by {@code maxKeys}: past it, the keys whose windows are all
 * full again are dropped (they hold nothing a fresh key would not), then, if that was not enough, any keys until a
 * quarter of the room is free. Time is monotonic ({@link System#nanoTime} outside tests). Thread-safe.
 */
final class LocalTokenBudget implements TokenBudget {

    private final TokenWindow[] windows;
    private final int[] capacities;
    private final LongSupplier nanoTime;
    private final int maxKeys;
    private final ConcurrentHashMap<String, TokenBuckets> buckets = new ConcurrentHashMap<>();

    LocalTokenBudget(TokenWindow[] windows, LongSupplier nanoTime, int maxKeys) {
        this.windows = windows.clone();
        this.capacities = Arrays.stream(windows).mapToInt(TokenWindow::capacity).toArray();
        this.nanoTime = nanoTime;
        this.maxKeys = maxKeys;
    }

    /** The number of keys held now. */
    int size() {
        return buckets.size();
    }

    @Override
    public Decision reserve(String key, long tokens) {
        return Decision.of(capacities, charge(key, tokens, true));
    }

    @Override
    public void adjust(String key, long tokens) {
        charge(key, tokens, false);
    }

    private Decision.Outcome[] charge(String key, long tokens, boolean check) {
        while (true) {
            TokenBuckets bucket = buckets.computeIfAbsent(key, absent -> new TokenBuckets(windows,
                    nanoTime.getAsLong()));
            Decision.Outcome[] outcomes;
            synchronized (bucket) {
                if (bucket.evicted) {
                    buckets.remove(key, bucket);
                    continue;
                }
                outcomes = bucket.charge(windows, tokens, check, nanoTime.getAsLong());
            }
            if (buckets.size() > maxKeys) {
                evict();
            }
            return outcomes;
        }
    }

    private synchronized void evict() {
        long now = nanoTime.getAsLong();
        int target = maxKeys - maxKeys / 4;
        for (boolean fullOnly : new boolean[] {true, false}) {
            for (Map.Entry<String, TokenBuckets> entry : buckets.entrySet()) {
                if (buckets.size() <= target) {
                    return;
                }
                TokenBuckets bucket = entry.getValue();
                synchronized (bucket) {
                    if (!fullOnly || bucket.full(windows, now)) {
                        bucket.evicted = true;
                        buckets.remove(entry.getKey(), bucket);
                    }
                }
            }
        }
    }
}
