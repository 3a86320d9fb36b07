package dev.modelgate.plugins.jwt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import com.auth0.jwt.JWT;
import com.auth0.jwt.JWTCreator;
import com.auth0.jwt.algorithms.Algorithm;
import dev.modelgate.spi.ErrorCode;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * The cache of verified tokens on a fake clock. Every verification that gets past the header looks its key up, so
 * the key source counts verifications, and swapping its key plays a JWKS rotation.
 */
class TokenCacheTest {

    private static final Instant NOW = Instant.parse("2026-03-01T12:00:00Z");
    /** Shorter than the TTL, so a token's expiry can fall within it. */
    private static final Duration LEEWAY = Duration.ofSeconds(10);
    private static final Duration TTL = Duration.ofSeconds(30);
    private static final Algorithm KEY = Algorithm.HMAC256(TestKeys.HS256_SECRET.getBytes(StandardCharsets.UTF_8));
    private static final Algorithm OTHER_KEY =
            Algorithm.HMAC256(TestKeys.HS384_SECRET.getBytes(StandardCharsets.UTF_8));

    private final MutableClock clock = new MutableClock(NOW);
    private final JwtSettings settings = new JwtSettings(KeyAlgorithm.HS256, null, null, null, List.of("modelgate"),
            List.of(), LEEWAY, "roles", 8192, 10, TTL);
    private final AtomicInteger verifications = new AtomicInteger();
    private final AtomicReference<KeySource.Lookup> trusted = new AtomicReference<>(lookup(KEY));

    private KeySource.Lookup lookup(Algorithm key) {
        return KeySource.Lookup.found(settings.verifier(key, clock));
    }

    private TokenCache cache(int maxSize) {
        KeySource counting = kid -> {
            verifications.incrementAndGet();
            return trusted.get();
        };
        return new TokenCache(new TokenVerifier(KeyAlgorithm.HS256, counting, "roles", LEEWAY), maxSize, TTL, clock);
    }

    private static JWTCreator.Builder claims(String subject, Duration validFor) {
        return JWT.create().withSubject(subject).withIssuer("modelgate").withIssuedAt(NOW)
                .withExpiresAt(NOW.plus(validFor));
    }

    private static String token(String subject) {
        return claims(subject, Duration.ofMinutes(5)).sign(KEY);
    }

    private static void assertAccepted(String subject, TokenVerifier.Outcome outcome) {
        assertEquals(subject, assertInstanceOf(TokenVerifier.Verified.class, outcome).principal().subject());
    }

    private static void assertRejected(ErrorCode expected, TokenVerifier.Outcome outcome) {
        assertEquals(expected, assertInstanceOf(TokenVerifier.Rejected.class, outcome).error());
    }

    @Test
    void aCachedTokenIsAcceptedWithoutVerifyingItAgain() {
        TokenCache cache = cache(10);
        String token = token("alice");

        assertAccepted("alice", cache.verify(token));
        clock.advance(TTL.minusMillis(1));
        assertAccepted("alice", cache.verify(token));

        assertEquals(1, verifications.get());
    }

    @Test
    void aTokenIsVerifiedAgainOnceTheTtlIsOver() {
        TokenCache cache = cache(10);
        String token = token("alice");
        cache.verify(token);

        clock.advance(TTL);

        assertAccepted("alice", cache.verify(token));
        assertEquals(2, verifications.get());
    }

    @Test
    void aKeyRotatedOutStaysTrustedForCachedTokensUntilTheTtlIsOver() {
        TokenCache cache = cache(10);
        String token = token("alice");
        assertAccepted("alice", cache.verify(token));

        trusted.set(lookup(OTHER_KEY));
        clock.advance(TTL.minusMillis(1));
        assertAccepted("alice", cache.verify(token));

        clock.advance(Duration.ofMillis(1));
        assertRejected(JwtProvider.BAD_SIGNATURE, cache.verify(token));
    }

    @Test
    void anExpiredTokenIsRefusedEvenWhenCached() {
        TokenCache cache = cache(10);
        // Expires well within the TTL: the cache must stop at exp plus the leeway, as the verifier does.
        String token = claims("alice", Duration.ofSeconds(1)).sign(KEY);
        assertAccepted("alice", cache.verify(token));

        clock.advance(Duration.ofSeconds(1).plus(LEEWAY).minusMillis(1));
        assertAccepted("alice", cache.verify(token));
        assertEquals(1, verifications.get());

        clock.advance(Duration.ofMillis(1));
        assertRejected(JwtProvider.EXPIRED, cache.verify(token));
    }

    @Test
    void failuresAreNotCached() {
        TokenCache cache = cache(10);
        String token = token("alice");
        trusted.set(lookup(OTHER_KEY));
        assertRejected(JwtProvider.BAD_SIGNATURE, cache.verify(token));

        trusted.set(lookup(KEY));

        assertAccepted("alice", cache.verify(token));
        assertEquals(2, verifications.get());
    }

    @Test
    void aTokenNotYetValidIsNotCachedAndPassesOnceItsTimeComes() {
        TokenCache cache = cache(10);
        Instant notBefore = NOW.plus(LEEWAY).plusSeconds(10);
        String token = claims("alice", Duration.ofMinutes(5)).withNotBefore(notBefore).sign(KEY);
        assertRejected(JwtProvider.NOT_YET_VALID, cache.verify(token));
        assertEquals(0, cache.size());

        clock.advance(Duration.ofSeconds(10));

        assertAccepted("alice", cache.verify(token));
    }

    @Test
    void aCacheSizeOfZeroVerifiesEveryRequest() {
        TokenCache cache = cache(0);
        String token = token("alice");

        cache.verify(token);
        cache.verify(token);

        assertEquals(2, verifications.get());
        assertEquals(0, cache.size());
    }

    @Test
    void aFullCacheVerifiesNewTokensWithoutStoringThem() {
        TokenCache cache = cache(2);
        cache.verify(token("alice"));
        cache.verify(token("bob"));
        String carol = token("carol");

        assertAccepted("carol", cache.verify(carol));
        assertAccepted("carol", cache.verify(carol));

        assertEquals(4, verifications.get());
        assertEquals(2, cache.size());
    }

    @Test
    void aFullCacheMakesRoomOnceItsEntriesExpire() {
        TokenCache cache = cache(2);
        cache.verify(token("alice"));
        cache.verify(token("bob"));
        String carol = token("carol");
        cache.verify(carol);

        clock.advance(TTL);
        cache.verify(carol);
        cache.verify(carol);

        assertEquals(1, cache.size());
        assertEquals(4, verifications.get());
    }
}
