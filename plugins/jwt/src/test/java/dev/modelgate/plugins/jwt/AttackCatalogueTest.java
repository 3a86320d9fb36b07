package dev.modelgate.plugins.jwt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.auth0.jwt.JWTCreator;
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
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Set;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Known attacks on JWT verification, each against a real gateway pinned to RS256 with a PEM key: each must be
 * refused with its own status and code, and must never reach the backend.
 */
class AttackCatalogueTest {

    private static final String MODEL = "m";
    private static final String PREDICT = "/v1/models/" + MODEL + ":predict";
    private static final String BODY = BearerRequests.BODY;
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
        gateway = RunningGateway.start(GatewayYaml.counting(COUNTER)
                .middleware(GatewayYaml.jwt("""
                        algorithm: RS256
                        public-key: %s
                        issuer: modelgate
                        audience: models
                        """.formatted(publicKeyFile)))
                .route(MODEL, GatewayYaml.AUTHORIZE_PREDICT)
                .route("admin-only", """
                        - type: authorize
                          roles: [admin]
                        """)
                .yaml());
    }

    @AfterAll
    static void stop() throws Exception {
        gateway.close();
        attackerSite.close();
    }

    private static String signedByServer(JWTCreator.Builder claims) {
        return claims.sign(KeyAlgorithm.RS256.signing(serverKeys.getPrivate()));
    }

    private static String signedByAttacker(JWTCreator.Builder claims) {
        return claims.sign(KeyAlgorithm.RS256.signing(attackerKeys.getPrivate()));
    }

    private static String valid() {
        return signedByServer(TestKeys.claims("predict"));
    }

    private static HttpResponse<String> predict(String authorization) {
        return BearerRequests.predict(gateway, MODEL, authorization);
    }

    /** Sends {@code token} and checks the refusal: status, code, challenge, no echo, and no backend call. */
    private static void assertRefused(String token, int status, int code) {
        BearerRequests.assertRefused(gateway, COUNTER, MODEL, token, status, code);
    }

    @Test
    void aValidTokenReachesTheRouteWithItsPrincipal() {
        int before = CountingBackendProvider.calls(COUNTER);

        var response = predict("Bearer " + valid());

        assertEquals(200, response.statusCode(), response.body());
        assertEquals(before + 1, CountingBackendProvider.calls(COUNTER));
        assertEquals(new Principal("alice", Set.of("predict"), "jwt"), CountingBackendProvider.lastPrincipal(COUNTER));
    }

    @Test
    void theBearerSchemeIsMatchedWithoutRegardToCase() {
        var response = predict("bEARER " + valid());

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
        String[] parts = signedByServer(TestKeys.claims()).split("\\.");
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
        assertRefused(signedByAttacker(TestKeys.claims("predict")), 401, 10103);
    }

    @Test
    void anEmbeddedJwkHeaderIsNotTrusted() {
        Map<String, Object> attackerJwk = Json.MAPPER.convertValue(
                TestKeys.jwk("attacker", KeyAlgorithm.RS256, attackerKeys), Map.class);
        String token = signedByAttacker(TestKeys.claims("predict").withHeader(Map.of("jwk", attackerJwk)));

        assertRefused(token, 401, 10103);
    }

    @ParameterizedTest
    @ValueSource(strings = {"jku", "x5u"})
    void keyUrlsInTheHeaderAreNeverFetched(String header) {
        String token = signedByAttacker(TestKeys.claims("predict")
                .withHeader(Map.of(header, attackerSite.url("/jwks.json")))
                .withKeyId("attacker"));

        assertRefused(token, 401, 10103);
        assertEquals(0, attackerSite.calls(), "the gateway fetched a URL from the token");
    }

    @Test
    void aKeyIdLikeAPathSelectsNothing() {
        String token = signedByAttacker(TestKeys.claims("predict").withKeyId("../../../../etc/passwd"));

        assertRefused(token, 401, 10103);
    }

    /** Claims the server signs yet the gateway must refuse, each named, with the code it is refused with. */
    static Stream<Arguments> claimsBreakingARule() {
        return Stream.of(
                breaking("an expired token", 10106, claims -> {
                    Instant past = Instant.now().minus(Duration.ofHours(1));
                    return claims.withIssuedAt(past).withExpiresAt(past.plusSeconds(60));
                }),
                breaking("a token not valid before a later time", 10107,
                        claims -> claims.withNotBefore(Instant.now().plus(Duration.ofMinutes(3)))),
                breaking("a token issued in the future", 10107,
                        claims -> claims.withIssuedAt(Instant.now().plus(Duration.ofMinutes(3)))),
                breaking("a token without expiry", 10110, claims -> claims.withExpiresAt((Instant) null)),
                breaking("a token from another issuer", 10108, claims -> claims.withIssuer("evil")),
                breaking("a token for another audience", 10109, claims -> claims.withAudience("billing")),
                breaking("a token without subject", 10102, claims -> claims.withSubject(null)),
                breaking("a subject with control characters", 10102,
                        claims -> claims.withSubject("alice\u0000\r\nX-Modelgate-Roles: admin")));
    }

    private static Arguments breaking(String name, int code, UnaryOperator<JWTCreator.Builder> change) {
        return Arguments.of(Named.of(name, change), code);
    }

    @ParameterizedTest(name = "{0} is refused with code {1}")
    @MethodSource("claimsBreakingARule")
    void aTokenTheServerSignedIsRefusedWhenAClaimBreaksARule(UnaryOperator<JWTCreator.Builder> change, int code) {
        assertRefused(signedByServer(change.apply(TestKeys.claims("predict"))), 401, code);
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
        var response = predict("Basic YWxpY2U6c2VjcmV0");

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

        var response = BearerRequests.predictWithToken(gateway, "admin-only", valid());

        assertEquals(403, response.statusCode(), response.body());
        assertTrue(response.body().contains("\"code\":10302"), response.body());
        assertEquals(before, CountingBackendProvider.calls(COUNTER));
    }

    @Test
    void anyValidTokenMayListModels() {
        String token = signedByServer(TestKeys.claims());

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
