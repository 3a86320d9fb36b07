package dev.modelgate.plugins.ratelimit;

/**
 * Decides, per request key, whether every configured limit admits one more request, and charges them all if so.
 *
 * <p>Thread-safe: called concurrently from request threads. May block for at most the store's configured timeout;
 * never throws and never returns {@code null}: a store that cannot decide answers by its failure policy.
 */
interface Limiter {

    Decision decide(String key);
}
