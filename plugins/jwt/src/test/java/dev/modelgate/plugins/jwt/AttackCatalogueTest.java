package dev.modelgate.plugins.jwt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.auth0.jwt.algorithms.Algorithm;
import dev.modelgate.kernel.testing.RunningGateway;
import dev.modelgate.kernel.testing.TestBackend;
import dev.modelgate.spi.Json;
import dev.modelgate.spi.Principal;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Known attacks on JWT verification, each against a real gateway pinned to RS256 with a PEM key: each must be
 * refused with its own status and code, and must never reach the backend.
 */
class AttackCatalogueTest {

    private static final String PREDICT = "/v1/models/m:predict";
    private static final String BODY = "{\"instances\":[[1.0]]}";
    private static final String COUNTER = "attacks";

    @TempDir
    static Path keysDir;
    private static KeyPair serverKeys;
    private static KeyPair attackerKeys;
    private static Path publicKeyFile;
    private static TestBackend attackerSite;
    private static RunningGateway gateway;

    @BeforeAll
    static void start() throws Exception {
        serverKeys = TestKeys.rsa(2048);
        attackerKeys = TestKeys.rsa(2048);
        publicKeyFile = TestKeys.writePem(keysDir, "server.pem", serverKeys.getPublic());
        String attackerJwks = TestKeys.jwks(TestKeys.jwk("attacker", KeyAlgorithm.RS256, attackerKeys));
        attackerSite = TestBackend.start(request -> TestBackend.Reply.json(200, attackerJwks));
        gateway = RunningGateway.start("""
                server:
                  address: 127.0.0.1
                middlewares:
                  - type: jwt
                    algorithm: RS256
                    public-key: %s
                    issuer: modelgate
                    audience: models
                backends:
                  model:
                    type: counting
                    counter: %s
                routes:
                  - model: m
                    backend: model
                    middlewares:
                      - type: authorize
                        roles: [predict]
                        operations: [predict]
                  - model: admin-only
                    backend: model
                    middlewares:
                      - type: authorize
                        roles: [admin]
                """.formatted(publicKeyFile, COUNTER));
    }

    @AfterAll
    static void stop() throws Exception {
        gateway.close();
        attackerSite.close();
    }

    private static String valid() {
        return TestKeys.claims("predict").sign(Algorithm.RSA256(null, (java.security.interfaces.RSAPrivateKey)
                serverKeys.getPrivate()));
    }

    /** Sends {@code token} and checks the refusal: status, code, challenge, no echo, and no backend call. */
    private static void assertRefused(String token, int status, int code) {
        int before = CountingBackendProvider.calls(COUNTER);
        var response = gateway.post(PREDICT, "application/json", BODY, "Authorization", "Bearer " + token);

        assertEquals(status, response.statusCode(), response.body());
        assertTrue(response.body().contains("\"code\":" + code), response.body());
        if (status == 401) {
            assertEquals("Bearer error=\"invalid_token\"", response.headers().firstValue("WWW-Authenticate")
                    .orElseThrow());
        }
        if (!token.isBlank()) {
            assertFalse(response.body().contains(token), "the response must not echo the token");
        }
        assertEquals(before, CountingBackendProvider.calls(COUNTER), "the backend must not be called");
    }

    @Test
    void aValidTokenReachesTheRouteWithItsPrincipal() {
        int before = CountingBackendProvider.calls(COUNTER);

        var response = gateway.post(PREDICT, "application/json", BODY, "Authorization", "Bearer " + valid());

        assertEquals(200, response.statusCode(), response.body());
        assertEquals(before + 1, CountingBackendProvider.calls(COUNTER));
        assertEquals(new Principal("alice", Set.of("predict"), "jwt"), CountingBackendProvider.lastPrincipal(COUNTER));
    }

    @Test
    void theBearerSchemeIsMatchedWithoutRegardToCase() {
        var response = gateway.post(PREDICT, "application/json", BODY, "Authorization", "bEARER " + valid());

        assertEquals(200, response.statusCode(), response.body());
    }

    @ParameterizedTest
    @ValueSource(strings = {"none", "None", "NONE", "nOnE"})
    void unsignedTokensWithAlgNoneAreRefusedInAnyCase(String none) {
        String token = TestKeys.unsigned("{\"alg\":\"" + none + "\",\"typ\":\"JWT\"}", "{\"sub\":\"alice\","
                + "\"roles\":[\"predict\"],\"iss\":\"modelgate\",\"aud\":\"models\",\"exp\":"
                + Instant.now().plusSeconds(300).getEpochSecond() + "}");

        assertRefused(token, 401, 10104);
    }

    @Test
    void anHmacTokenKeyedWithThePublicKeyPemIsRefused() throws IOException {
        byte[] pem = Files.readAllBytes(publicKeyFile);
        String token = TestKeys.claims("predict").sign(Algorithm.HMAC256(pem));

        assertRefused(token, 401, 10104);
    }

    @Test
    void aTokenWhoseHeaderNamesAnotherRsaAlgorithmIsRefused() {
        String token = TestKeys.claims("predict").sign(KeyAlgorithm.RS512.signing(serverKeys.getPrivate()));

        assertRefused(token, 401, 10104);
    }

    @Test
    void aTamperedPayloadWithTheOriginalSignatureIsRefused() {
        String[] parts = TestKeys.claims().sign(KeyAlgorithm.RS256.signing(serverKeys.getPrivate())).split("\\.");
        String forged = TestKeys.base64Url("{\"sub\":\"alice\",\"roles\":[\"predict\",\"admin\"],\"iss\":\"modelgate\","
                + "\"aud\":\"models\",\"exp\":" + Instant.now().plusSeconds(300).getEpochSecond() + "}");

        assertRefused(parts[0] + "." + forged + "." + parts[2], 401, 10103);
    }

    @Test
    void aTokenWithItsSignatureStrippedIsRefused() {
        String token = valid();

        assertRefused(token.substring(0, token.lastIndexOf('.') + 1), 401, 10103);
    }

    @Test
    void aTokenWithoutTheSignaturePartIsMalformed() {
        String token = valid();

        assertRefused(token.substring(0, token.lastIndexOf('.')), 401, 10102);
    }

    @Test
    void aTokenSignedByAnotherKeyIsRefused() {
        assertRefused(TestKeys.claims("predict").sign(KeyAlgorithm.RS256.signing(attackerKeys.getPrivate())),
                401, 10103);
    }

    @Test
    void anEmbeddedJwkHeaderIsNotTrusted() {
        Map<String, Object> attackerJwk = Json.MAPPER.convertValue(
                TestKeys.jwk("attacker", KeyAlgorithm.RS256, attackerKeys), Map.class);
        String token = TestKeys.claims("predict")
                .withHeader(Map.of("jwk", attackerJwk))
                .sign(KeyAlgorithm.RS256.signing(attackerKeys.getPrivate()));

        assertRefused(token, 401, 10103);
    }

    @ParameterizedTest
    @ValueSource(strings = {"jku", "x5u"})
    void keyUrlsInTheHeaderAreNeverFetched(String header) {
        String token = TestKeys.claims("predict")
                .withHeader(Map.of(header, attackerSite.url("/jwks.json")))
                .withKeyId("attacker")
                .sign(KeyAlgorithm.RS256.signing(attackerKeys.getPrivate()));

        assertRefused(token, 401, 10103);
        assertEquals(0, attackerSite.calls(), "the gateway fetched a URL from the token");
    }

    @Test
    void aKeyIdLikeAPathSelectsNothing() {
        String token = TestKeys.claims("predict").withKeyId("../../../../etc/passwd")
                .sign(KeyAlgorithm.RS256.signing(attackerKeys.getPrivate()));

        assertRefused(token, 401, 10103);
    }

    @Test
    void anExpiredTokenIsRefused() {
        Instant past = Instant.now().minus(Duration.ofHours(1));
        String token = TestKeys.claims("predict").withIssuedAt(past).withExpiresAt(past.plusSeconds(60))
                .sign(KeyAlgorithm.RS256.signing(serverKeys.getPrivate()));

        assertRefused(token, 401, 10106);
    }

    @Test
    void aTokenNotValidBeforeALaterTimeIsRefused() {
        String token = TestKeys.claims("predict").withNotBefore(Instant.now().plus(Duration.ofMinutes(3)))
                .sign(KeyAlgorithm.RS256.signing(serverKeys.getPrivate()));

        assertRefused(token, 401, 10107);
    }

    @Test
    void aTokenIssuedInTheFutureIsRefused() {
        String token = TestKeys.claims("predict").withIssuedAt(Instant.now().plus(Duration.ofMinutes(3)))
                .sign(KeyAlgorithm.RS256.signing(serverKeys.getPrivate()));

        assertRefused(token, 401, 10107);
    }

    @Test
    void aTokenWithoutExpiryIsRefused() {
        String token = TestKeys.claims("predict").withExpiresAt((Instant) null)
                .sign(KeyAlgorithm.RS256.signing(serverKeys.getPrivate()));

        assertRefused(token, 401, 10110);
    }

    @Test
    void aTokenFromAnotherIssuerIsRefused() {
        String token = TestKeys.claims("predict").withIssuer("evil")
                .sign(KeyAlgorithm.RS256.signing(serverKeys.getPrivate()));

        assertRefused(token, 401, 10108);
    }

    @Test
    void aTokenForAnotherAudienceIsRefused() {
        String token = TestKeys.claims("predict").withAudience("billing")
                .sign(KeyAlgorithm.RS256.signing(serverKeys.getPrivate()));

        assertRefused(token, 401, 10109);
    }

    @Test
    void aTokenWithoutSubjectIsRefused() {
        String token = TestKeys.claims("predict").withSubject(null)
                .sign(KeyAlgorithm.RS256.signing(serverKeys.getPrivate()));

        assertRefused(token, 401, 10102);
    }

    @Test
    void aSubjectWithControlCharactersIsRefused() {
        String token = TestKeys.claims("predict").withSubject("alice\u0000\r\nX-Modelgate-Roles: admin")
                .sign(KeyAlgorithm.RS256.signing(serverKeys.getPrivate()));

        assertRefused(token, 401, 10102);
    }

    @Test
    void garbageIsMalformed() {
        assertRefused("not.a.jwt", 401, 10102);
    }

    @Test
    void anEmptyBearerTokenIsMalformed() {
        assertRefused("   ", 401, 10102);
    }

    @Test
    void aTokenOverTheSizeLimitIsRefusedUnread() {
        assertRefused("a".repeat(8 * 1024 + 1), 401, 10111);
    }

    @Test
    void aRequestWithoutAuthorizationGetsTheBareChallenge() {
        int before = CountingBackendProvider.calls(COUNTER);

        var response = gateway.get("/v1/models");

        assertEquals(401, response.statusCode());
        assertTrue(response.body().contains("\"code\":10101"), response.body());
        assertEquals("Bearer realm=\"modelgate\"", response.headers().firstValue("WWW-Authenticate").orElseThrow());
        assertEquals(before, CountingBackendProvider.calls(COUNTER));
    }

    @Test
    void anotherAuthorizationSchemeCountsAsNoToken() {
        var response = gateway.post(PREDICT, "application/json", BODY, "Authorization", "Basic YWxpY2U6c2VjcmV0");

        assertEquals(401, response.statusCode());
        assertTrue(response.body().contains("\"code\":10101"), response.body());
    }

    @Test
    void twoAuthorizationHeadersAreRefusedEvenWhenBothAreValid() throws IOException {
        int before = CountingBackendProvider.calls(COUNTER);
        String token = valid();
        String request = "POST " + PREDICT + " HTTP/1.1\r\n"
                + "Host: 127.0.0.1\r\n"
                + "Authorization: Bearer " + token + "\r\n"
                + "Authorization: Bearer " + token + "\r\n"
                + "Content-Type: application/json\r\n"
                + "Content-Length: " + BODY.length() + "\r\n"
                + "Connection: close\r\n\r\n" + BODY;

        String response = exchangeRaw(request);

        assertTrue(response.startsWith("HTTP/1.1 400"), response);
        assertTrue(response.contains("\"code\":10112"), response);
        assertEquals(before, CountingBackendProvider.calls(COUNTER));
    }

    @Test
    void aValidTokenWithoutTheRouteRoleIsForbiddenByAuthorize() {
        int before = CountingBackendProvider.calls(COUNTER);

        var response = gateway.post("/v1/models/admin-only:predict", "application/json", BODY,
                "Authorization", "Bearer " + valid());

        assertEquals(403, response.statusCode(), response.body());
        assertTrue(response.body().contains("\"code\":10302"), response.body());
        assertEquals(before, CountingBackendProvider.calls(COUNTER));
    }

    @Test
    void anyValidTokenMayListModels() {
        String token = TestKeys.claims().sign(KeyAlgorithm.RS256.signing(serverKeys.getPrivate()));

        assertEquals(200, gateway.get("/v1/models", "Authorization", "Bearer " + token).statusCode());
    }

    /** Writes {@code request} as is on a new connection (HttpClient cannot repeat a header); reads the answer. */
    private static String exchangeRaw(String request) throws IOException {
        try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), gateway.port())) {
            socket.setSoTimeout(10_000);
            OutputStream out = socket.getOutputStream();
            out.write(request.getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = socket.getInputStream();
            ByteArrayOutputStream response = new ByteArrayOutputStream();
            in.transferTo(response);
            return response.toString(StandardCharsets.UTF_8);
        }
    }
}
