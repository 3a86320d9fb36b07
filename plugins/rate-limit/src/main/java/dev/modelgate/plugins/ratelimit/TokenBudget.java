package dev.modelgate.plugins.ratelimit;

/**
 * The token windows of every request key: a call reserves tokens up front and is charged its real usage afterwards.
 *
 * <p>Thread-safe. May block for at most the store's configured timeout; never throws: a store that cannot decide
 * answers by its failure policy.
 */
interface TokenBudget {

    /**
     * Reserves {@code tokens} for one call of {@code key} when every window holds at least that many (or, for a call
     * larger than a window, when that window is full); charges nothing when any window does not.
     */
    Decision reserve(String key, long tokens);

    /** Adds {@code tokens} to what {@code key} has been charged, unchecked; a negative amount gives tokens back. */
    void adjust(String key, long tokens);
}
