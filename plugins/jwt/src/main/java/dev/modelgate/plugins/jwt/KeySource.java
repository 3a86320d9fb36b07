package dev.modelgate.plugins.jwt;

import com.auth0.jwt.JWTVerifier;
import dev.modelgate.spi.ErrorCode;

/**
 * Where the verifier for a token's key id comes from: the one configured key, or a JWKS. Called on request threads,
 * concurrently; implementations are thread-safe.
 */
@FunctionalInterface
interface KeySource {

    /** The verifier for key id {@code kid} (may be {@code null}), or why there is none. May block to fetch keys. */
    Lookup find(String kid);

    /**
     * The answer of {@link #find}: a verifier, or the rejection to answer with. Built once per key, so the hot path
     * allocates nothing.
     */
    record Lookup(JWTVerifier verifier, ErrorCode error, String detail) {

        static final Lookup UNKNOWN_KEY_ID =
                new Lookup(null, JwtProvider.UNKNOWN_KEY_ID, "no key with the token's key id");
        static final Lookup NO_KEY_ID = new Lookup(null, JwtProvider.UNKNOWN_KEY_ID, "the token names no key id");
        static final Lookup KEYS_UNAVAILABLE = new Lookup(null, JwtProvider.KEYS_UNAVAILABLE, null);

        static Lookup found(JWTVerifier verifier) {
            return new Lookup(verifier, null, null);
        }
    }
}
