package dev.modelgate.plugins.jwt;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Remembers the tokens {@link TokenVerifier} accepted, as Envoy's {@code jwt_authn} does, so a client sending the same
 * token on every request pays for the signature and claim checks once per {@code ttl} rather than on each request.
 *
 * <p>The key is the exact token string; the value is the {@link TokenVerifier.Verified} outcome, whose principal
 * depends on the token alone. An entry is used until the earlier of the instant the verifier starts refusing the
 * token ({@link TokenVerifier.Verified#expiresAt()}) and {@code ttl} after it was verified; from then on the token is
 * verified again. Rejections are never stored: a key published later, a JWKS back up or an
 * {@code nbf} reached must count on the next request.
 *
 * <p>The price: a key dropped from a JWKS keeps authenticating the tokens cached under it for up to {@code ttl}.
 * That is why the default {@code ttl} is short.
 *
 * <p>At most {@code maxSize} entries. When full, newly verified tokens are answered but not stored, and the expired
 * entries are swept out at most once per earliest expiry among those that stayed. Nothing live is ever evicted:
 * the map only fills with tokens that passed verification, which an attacker cannot mint, and evicting live entries
 * (one at random, or the whole map) would only trade one client's checks for another's. A {@code maxSize} of 0 turns
 * the cache off.
 *
 * <p>Thread-safe and lock-free: called by request threads concurrently. Reads time from the injected clock only.
 */
final class TokenCache {

    /** A verified token and the instant from which it must be verified again. */
    private record Entry(TokenVerifier.Verified verified, Instant expiresAt) {

        boolean expiredAt(Instant now) {
            return !now.isBefore(expiresAt);
        }
    }

    private final TokenVerifier verifier;
    private final int maxSize;
    private final Duration ttl;
    private final Clock clock;
    private final Map<String, Entry> entries = new ConcurrentHashMap<>();
    /** Entries stored plus slots reserved for entries about to be; never above {@link #maxSize}. */
    private final AtomicInteger size = new AtomicInteger();
    /** Epoch millisecond before which a sweep would free nothing; {@link Long#MAX_VALUE} while one runs. */
    private final AtomicLong nextSweep = new AtomicLong(Long.MIN_VALUE);

    /**
     * @param maxSize the most tokens remembered at once; 0 verifies every request
     * @param ttl the longest a token is used without verifying it again
     */
    TokenCache(TokenVerifier verifier, int maxSize, Duration ttl, Clock clock) {
        this.verifier = verifier;
        this.maxSize = maxSize;
        this.ttl = ttl;
        this.clock = clock;
    }

    /** What {@link TokenVerifier#verify} says of {@code token}, or said of it within the time described above. */
    TokenVerifier.Outcome verify(String token) {
        if (maxSize == 0) {
            return verifier.verify(token);
        }
        Instant now = clock.instant();
        Entry cached = entries.get(token);
        if (cached != null) {
            if (!cached.expiredAt(now)) {
                return cached.verified();
            }
            remove(token, cached);
        }
        TokenVerifier.Outcome outcome = verifier.verify(token);
        if (outcome instanceof TokenVerifier.Verified verified) {
            store(token, verified, now);
        }
        return outcome;
    }

    /** How many tokens are remembered now. */
    int size() {
        return entries.size();
    }

    private void store(String token, TokenVerifier.Verified verified, Instant now) {
        Instant ttlEnd = now.plus(ttl);
        Entry entry = new Entry(verified, verified.expiresAt().isBefore(ttlEnd) ? verified.expiresAt() : ttlEnd);
        if (!reserve() && !(sweep(now) && reserve())) {
            return;
        }
        if (entries.putIfAbsent(token, entry) != null) {
            size.decrementAndGet(); // another request stored the same token first; keep theirs
        }
    }

    /** Takes one slot if there is one left. */
    private boolean reserve() {
        int current;
        do {
            current = size.get();
            if (current >= maxSize) {
                return false;
            }
        } while (!size.compareAndSet(current, current + 1));
        return true;
    }

    /** Removes {@code entry} unless another thread did: the slot is freed exactly once. */
    private void remove(String token, Entry entry) {
        if (entries.remove(token, entry)) {
            size.decrementAndGet();
        }
    }

    /**
     * Removes the entries expired at {@code now}, unless a sweep runs already or could not free anything yet.
     * Sweeping a full map of live entries on every request would cost more than the verification it saves.
     *
     * @return whether this call swept
     */
    private boolean sweep(Instant now) {
        long due = nextSweep.get();
        if (now.toEpochMilli() < due || !nextSweep.compareAndSet(due, Long.MAX_VALUE)) {
            return false;
        }
        Instant earliest = now.plus(ttl);
        for (Map.Entry<String, Entry> stored : entries.entrySet()) {
            Entry entry = stored.getValue();
            if (entry.expiredAt(now)) {
                remove(stored.getKey(), entry);
            } else if (entry.expiresAt().isBefore(earliest)) {
                earliest = entry.expiresAt();
            }
        }
        nextSweep.set(earliest.toEpochMilli());
        return true;
    }
}
