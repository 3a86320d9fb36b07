package dev.modelgate.plugins.jwt;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.auth0.jwt.JWT;
import com.auth0.jwt.JWTCreator;
import com.auth0.jwt.algorithms.Algorithm;
import dev.modelgate.spi.ErrorCode;
import dev.modelgate.spi.Principal;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The token checks at a fixed instant, where the leeway's edges can be hit exactly. */
class TokenVerifierTest {

    private static final Instant NOW = Instant.parse("2026-03-01T12:00:00Z");
    private static final byte[] SECRET = TestKeys.HS256_SECRET.getBytes(StandardCharsets.UTF_8);
    private static final Algorithm HS256 = Algorithm.HMAC256(SECRET);

    private final TokenVerifier verifier = verifier(List.of("models"));

    private static TokenVerifier verifier(List<String> audiences) {
        JwtSettings settings = new JwtSettings(KeyAlgorithm.HS256, SECRET, null, null, List.of("modelgate"),
                audiences, Duration.ofSeconds(30), "roles", 8192, 0, Duration.ofSeconds(30));
        KeySource.Lookup only = KeySource.Lookup.found(settings.verifier(HS256, Clock.fixed(NOW, ZoneOffset.UTC)));
        return new TokenVerifier(KeyAlgorithm.HS256, kid -> only, settings.rolesClaim(), settings.leeway());
    }

    private static JWTCreator.Builder claims() {
        return JWT.create().withSubject("alice").withIssuer("modelgate").withAudience("models")
                .withIssuedAt(NOW.minusSeconds(60)).withExpiresAt(NOW.plusSeconds(60));
    }

    private TokenVerifier.Outcome check(JWTCreator.Builder claims) {
        return verifier.verify(claims.sign(HS256));
    }

    private static void assertRejected(ErrorCode expected, TokenVerifier.Outcome outcome) {
        assertEquals(expected, outcome instanceof TokenVerifier.Rejected rejected ? rejected.error() : null,
                outcome.toString());
    }

    private static Set<String> roles(TokenVerifier.Outcome outcome) {
        return ((TokenVerifier.Verified) outcome).principal().roles();
    }

    @Test
    void aSignedPayloadThatIsJsonNullIsMalformedNotACrash() throws Exception {
        java.util.Base64.Encoder base64 = java.util.Base64.getUrlEncoder().withoutPadding();
        String content = base64.encodeToString("{\"alg\":\"HS256\",\"typ\":\"JWT\"}".getBytes(StandardCharsets.UTF_8))
                + "." + base64.encodeToString("null".getBytes(StandardCharsets.UTF_8));
        javax.crypto.Mac mac = javax.crypto.Mac.getInstance("HmacSHA256");
        mac.init(new javax.crypto.spec.SecretKeySpec(SECRET, "HmacSHA256"));
        String token = content + "." + base64.encodeToString(mac.doFinal(content.getBytes(StandardCharsets.US_ASCII)));

        assertRejected(JwtProvider.MALFORMED, verifier.verify(token));
    }

    @Test
    void aTokenExpiredWithinTheLeewayIsAccepted() {
        Instant expiry = NOW.minusSeconds(29);

        assertEquals(new TokenVerifier.Verified(new Principal("alice", Set.of(), "jwt"), expiry.plusSeconds(30)),
                check(claims().withExpiresAt(expiry)));
    }

    @Test
    void aTokenExpiredBeyondTheLeewayIsRefused() {
        assertRejected(JwtProvider.EXPIRED, check(claims().withExpiresAt(NOW.minusSeconds(31))));
    }

    @Test
    void aTokenValidWithinTheLeewayIsAccepted() {
        assertEquals(TokenVerifier.Verified.class, check(claims().withNotBefore(NOW.plusSeconds(29))).getClass());
    }

    @Test
    void aTokenNotYetValidBeyondTheLeewayIsRefused() {
        assertRejected(JwtProvider.NOT_YET_VALID, check(claims().withNotBefore(NOW.plusSeconds(31))));
    }

    @Test
    void aTokenIssuedLaterThanTheLeewayAllowsIsRefused() {
        assertRejected(JwtProvider.NOT_YET_VALID, check(claims().withIssuedAt(NOW.plusSeconds(31))));
    }

    @Test
    void aTokenThatNeverExpiresIsRefused() {
        assertRejected(JwtProvider.MISSING_EXPIRY, check(claims().withExpiresAt((Instant) null)));
    }

    @Test
    void aTokenWithoutIssuerIsRefusedWhenAnIssuerIsConfigured() {
        assertRejected(JwtProvider.WRONG_ISSUER, check(claims().withIssuer(null)));
    }

    @Test
    void anyConfiguredAudienceInTheTokenSuffices() {
        TokenVerifier either = verifier(List.of("billing", "models"));

        assertEquals(TokenVerifier.Verified.class,
                either.verify(claims().withAudience("other", "models").sign(HS256)).getClass());
        assertRejected(JwtProvider.WRONG_AUDIENCE, either.verify(claims().withAudience("other").sign(HS256)));
    }

    @Test
    void rolesComeFromAListClaim() {
        assertEquals(Set.of("predict", "admin"),
                roles(check(claims().withArrayClaim("roles", new String[] {"predict", "admin", "predict"}))));
    }

    @Test
    void rolesComeFromASpaceSeparatedStringClaim() {
        assertEquals(Set.of("predict", "read"), roles(check(claims().withClaim("roles", " predict  read predict "))));
    }

    @Test
    void aRolesClaimOfAnotherShapeGrantsNothing() {
        assertEquals(Set.of(), roles(check(claims().withArrayClaim("roles", new Integer[] {1, 2}))));
        assertEquals(Set.of(), roles(check(claims().withClaim("roles", 7))));
    }

    @Test
    void otherTopLevelStringClaimsBecomeThePrincipalsClaims() {
        TokenVerifier.Outcome outcome = check(claims().withJWTId("token-7").withClaim("region", "eu")
                .withClaim("group", "beta").withClaim("roles", "predict").withClaim("tier", 3)
                .withArrayClaim("devices", new String[] {"ios"}).withClaim("forged", "eu\r\nX-Admin: yes")
                .withClaim("plan\n", "gold"));

        assertEquals(Map.of("region", "eu", "group", "beta"), ((TokenVerifier.Verified) outcome).principal().claims());
    }

    @Test
    void aTokenWithCriticalHeaderExtensionsIsRefused() {
        String token = claims().withHeader(Map.of("crit", List.of("exp"))).sign(HS256);

        assertRejected(JwtProvider.MALFORMED, verifier.verify(token));
    }

    @Test
    void theHeadersAlgorithmMustMatchExactly() {
        String token = claims().sign(HS256);
        String header = TestKeys.base64Url("{\"alg\":\"hs256\",\"typ\":\"JWT\"}");
        String lowerCase = header + token.substring(token.indexOf('.'));

        assertRejected(JwtProvider.DISALLOWED_ALGORITHM, verifier.verify(lowerCase));
    }
}
