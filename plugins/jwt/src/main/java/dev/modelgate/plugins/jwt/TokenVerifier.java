package dev.modelgate.plugins.jwt;

import com.auth0.jwt.JWT;
import com.auth0.jwt.exceptions.AlgorithmMismatchException;
import com.auth0.jwt.exceptions.IncorrectClaimException;
import com.auth0.jwt.exceptions.JWTDecodeException;
import com.auth0.jwt.exceptions.JWTVerificationException;
import com.auth0.jwt.exceptions.MissingClaimException;
import com.auth0.jwt.exceptions.SignatureVerificationException;
import com.auth0.jwt.exceptions.TokenExpiredException;
import com.auth0.jwt.interfaces.Claim;
import com.auth0.jwt.interfaces.DecodedJWT;
import dev.modelgate.spi.ErrorCode;
import dev.modelgate.spi.Principal;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Checks one bearer token and says who it authenticates, or why not. The algorithm and key come from the
 * configuration only: the token's header selects nothing but a key id within the configured keys, and its
 * {@code jku}, {@code x5u} and {@code jwk} headers are never read.
 *
 * <p>Immutable and thread-safe; may block only when its {@link KeySource} fetches keys.
 */
final class TokenVerifier {

    /** What a token check found: a {@link Verified} principal or a {@link Rejected} reason. */
    sealed interface Outcome permits Verified, Rejected {
    }

    /**
     * @param principal who the token authenticates; depends on the token alone, so one may serve many requests
     * @param expiresAt the first instant this verifier refuses the token: its {@code exp} plus the leeway in whole
     *     seconds, as java-jwt counts it. The other checks cannot turn from pass to fail as time passes ({@code nbf}
     *     and {@code iat} only fall further behind), so with the same keys the outcome holds until then
     */
    record Verified(Principal principal, Instant expiresAt) implements Outcome {
    }

    /** @param detail client-safe; never contains the token or any part of it */
    record Rejected(ErrorCode error, String detail) implements Outcome {
    }

    private static final Rejected MALFORMED = new Rejected(JwtProvider.MALFORMED, "not a well-formed JWT");
    private static final Rejected ALGORITHM = new Rejected(JwtProvider.DISALLOWED_ALGORITHM, null);
    private static final Rejected SIGNATURE = new Rejected(JwtProvider.BAD_SIGNATURE, null);
    private static final Rejected EXPIRED = new Rejected(JwtProvider.EXPIRED, null);
    private static final Rejected NOT_YET_VALID = new Rejected(JwtProvider.NOT_YET_VALID, null);
    private static final Rejected ISSUED_IN_FUTURE =
            new Rejected(JwtProvider.NOT_YET_VALID, "issued in the future");
    private static final Rejected ISSUER = new Rejected(JwtProvider.WRONG_ISSUER, null);
    private static final Rejected AUDIENCE = new Rejected(JwtProvider.WRONG_AUDIENCE, null);
    private static final Rejected NO_EXPIRY = new Rejected(JwtProvider.MISSING_EXPIRY, null);
    private static final Rejected NO_SUBJECT = new Rejected(JwtProvider.MALFORMED, "no sub claim");
    private static final Rejected CONTROL_IN_SUBJECT =
            new Rejected(JwtProvider.MALFORMED, "control characters in sub");
    private static final Rejected CRITICAL = new Rejected(JwtProvider.MALFORMED, "unsupported crit header");

    /** Claims the principal already carries, or that identify the token rather than its holder. */
    private static final Set<String> NOT_PRINCIPAL_CLAIMS = Set.of("sub", "iss", "aud", "jti");

    private final String algorithm;
    private final KeySource keys;
    private final String rolesClaim;
    private final Duration leeway;

    /** @param leeway the one the key source's verifiers allow for {@code exp}, to say how long a token holds */
    TokenVerifier(KeyAlgorithm algorithm, KeySource keys, String rolesClaim, Duration leeway) {
        this.algorithm = algorithm.name();
        this.keys = keys;
        this.rolesClaim = rolesClaim;
        // java-jwt takes the leeway in whole seconds (JwtSettings.verifier), so a 1500ms leeway is 1s there.
        this.leeway = Duration.ofSeconds(leeway.toSeconds());
    }

    Outcome verify(String token) {
        DecodedJWT jwt;
        try {
            jwt = JWT.decode(token);
        } catch (JWTDecodeException e) {
            return MALFORMED;
        }
        // java-jwt compares too, but the pin is the point of this class: refuse before any key is looked up, so
        // "none" (in any case), HS256 over an RSA public key and every other header-chosen algorithm stop here.
        if (!algorithm.equals(jwt.getAlgorithm())) {
            return ALGORITHM;
        }
        // RFC 7515, section 4.1.11: a token whose critical extensions we do not implement must be refused; we
        // implement none.
        if (!jwt.getHeaderClaim("crit").isMissing()) {
            return CRITICAL;
        }
        KeySource.Lookup key = keys.find(jwt.getKeyId());
        if (key.verifier() == null) {
            return new Rejected(key.error(), key.detail());
        }
        try {
            key.verifier().verify(jwt);
        } catch (JWTVerificationException e) {
            return rejection(e);
        } catch (RuntimeException e) {
            // java-jwt fails with NullPointerException on a signed payload that is JSON null, say.
            return MALFORMED;
        }
        // java-jwt accepts a token without exp; a token that never expires is not one we accept.
        if (jwt.getExpiresAt() == null) {
            return NO_EXPIRY;
        }
        String subject = jwt.getSubject();
        if (subject == null || subject.isBlank()) {
            return NO_SUBJECT;
        }
        // The subject travels on to logs and to backends as a header value, where CR, LF or NUL would forge lines.
        if (hasControlCharacter(subject)) {
            return CONTROL_IN_SUBJECT;
        }
        return new Verified(new Principal(subject, roles(jwt.getClaim(rolesClaim)), "jwt", claims(jwt)),
                jwt.getExpiresAtAsInstant().plus(leeway));
    }

    /**
     * The token's other top-level string claims ({@code region}, {@code group}), for routing rules and rate-limit
     * keys. Numbers, lists and objects are left out, as are the roles claim (already the roles) and values with
     * control characters, which would forge lines where they end up in a header or a log.
     */
    private Map<String, String> claims(DecodedJWT jwt) {
        Map<String, String> claims = new HashMap<>();
        jwt.getClaims().forEach((name, claim) -> {
            String value = claim.asString();
            if (value != null && !NOT_PRINCIPAL_CLAIMS.contains(name) && !name.equals(rolesClaim)
                    && !hasControlCharacter(name) && !hasControlCharacter(value)) {
                claims.put(name, value);
            }
        });
        return claims;
    }

    private static Rejected rejection(JWTVerificationException e) {
        return switch (e) {
            case AlgorithmMismatchException mismatch -> ALGORITHM;
            case SignatureVerificationException signature -> SIGNATURE;
            case TokenExpiredException expired -> EXPIRED;
            case IncorrectClaimException incorrect -> claimRejection(incorrect.getClaimName());
            case MissingClaimException missing -> claimRejection(missing.getClaimName());
            default -> MALFORMED;
        };
    }

    private static Rejected claimRejection(String claim) {
        return switch (claim) {
            case "exp" -> EXPIRED;
            case "nbf" -> NOT_YET_VALID;
            case "iat" -> ISSUED_IN_FUTURE;
            case "iss" -> ISSUER;
            case "aud" -> AUDIENCE;
            default -> MALFORMED;
        };
    }

    private static boolean hasControlCharacter(String text) {
        return text.chars().anyMatch(Character::isISOControl);
    }

    /**
     * A list claim's strings, or a string claim split at spaces as OAuth2 {@code scope}; none otherwise. Roles with
     * control characters are dropped, for the reason subjects with them are refused.
     */
    private static Set<String> roles(Claim claim) {
        if (claim.isMissing() || claim.isNull()) {
            return Set.of();
        }
        String text = claim.asString();
        if (text != null) {
            return text.isBlank() ? Set.of() : Arrays.stream(text.strip().split("\\s+"))
                    .filter(role -> !hasControlCharacter(role)).collect(Collectors.toUnmodifiableSet());
        }
        List<Object> list;
        try {
            list = claim.asList(Object.class);
        } catch (JWTDecodeException e) {
            return Set.of();
        }
        // Only strings are roles: Jackson would turn 1 into "1", and a number granting a role is a surprise.
        return list == null ? Set.of() : list.stream().filter(String.class::isInstance).map(String.class::cast)
                .filter(role -> !hasControlCharacter(role)).collect(Collectors.toUnmodifiableSet());
    }
}
