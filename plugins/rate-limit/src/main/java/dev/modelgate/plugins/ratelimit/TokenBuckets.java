package dev.modelgate.plugins.ratelimit;

/**
 * The arithmetic of one key's token windows, shared by the local store and, line for line, by
 * {@code token-limit.lua}: refill since the last update (up to the capacity), check, charge. Not thread-safe: the
 * local store holds the key's lock around it.
 */
final class TokenBuckets {

    private final double[] levels;
    private long updatedNanos;
    /** Set under the lock when the store dropped this key: whoever still holds it must look the key up again. */
    boolean evicted;

    /** Full windows, as a key never seen has. */
    TokenBuckets(TokenWindow[] windows, long nowNanos) {
        levels = new double[windows.length];
        for (int i = 0; i < windows.length; i++) {
            levels[i] = windows[i].capacity();
        }
        updatedNanos = nowNanos;
    }

    /**
     * Charges {@code tokens} to every window when {@code check} is off or every window covers them (a call larger
     * than a window needs that window full), and returns what each window said; changes nothing when refused.
     */
    Decision.Outcome[] charge(TokenWindow[] windows, long tokens, boolean check, long nowNanos) {
        double[] refilled = new double[windows.length];
        boolean admitted = true;
        for (int i = 0; i < windows.length; i++) {
            refilled[i] = level(windows[i], i, nowNanos);
            admitted &= !check || refilled[i] >= Math.min(tokens, windows[i].capacity());
        }
        Decision.Outcome[] outcomes = new Decision.Outcome[windows.length];
        for (int i = 0; i < windows.length; i++) {
            TokenWindow window = windows[i];
            double after = admitted ? Math.min(window.capacity(), refilled[i] - tokens) : refilled[i];
            double shortBy = Math.min(tokens, window.capacity()) - refilled[i];
            outcomes[i] = new Decision.Outcome(admitted || shortBy <= 0, (long) Math.floor(after),
                    nanos((window.capacity() - after) / window.refillPerNano()),
                    admitted || shortBy <= 0 ? 0 : nanos(shortBy / window.refillPerNano()));
            if (admitted) {
                levels[i] = after;
            }
        }
        if (admitted) {
            updatedNanos = nowNanos;
        }
        return outcomes;
    }

    /** Whether every window is full again: the key then holds nothing a fresh one would not. */
    boolean full(TokenWindow[] windows, long nowNanos) {
        for (int i = 0; i < windows.length; i++) {
            if (level(windows[i], i, nowNanos) < windows[i].capacity()) {
                return false;
            }
        }
        return true;
    }

    private double level(TokenWindow window, int index, long nowNanos) {
        long elapsed = Math.max(0, nowNanos - updatedNanos);
        return Math.min(window.capacity(), levels[index] + elapsed * window.refillPerNano());
    }

    private static long nanos(double value) {
        return (long) Math.ceil(value);
    }
}
