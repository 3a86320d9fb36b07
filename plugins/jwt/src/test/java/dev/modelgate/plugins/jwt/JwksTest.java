package dev.modelgate.plugins.jwt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.modelgate.kernel.testing.RunningGateway;
import dev.modelgate.kernel.testing.TestBackend;
import java.net.http.HttpResponse;
import java.security.KeyPair;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A gateway as OAuth2 resource server, on a real local JWKS endpoint. The key cache is set to refresh on every request
 * here and the token cache is off, so rotation and outages show at once; the refresh rate limit itself is
 * {@link JwksKeysTest}'s, the token cache {@link TokenCacheTest}'s.
 */
class JwksTest {

    private static final String MODEL = "m";
    private static final String COUNTER = "jwks";
    private static final KeyPair FIRST = TestKeys.rsa(2048);
    private static final KeyPair SECOND = TestKeys.rsa(2048);
    private static final KeyPair ATTACKER = TestKeys.rsa(2048);
    private static final Duration JWKS_TIMEOUT = Duration.ofSeconds(1);

    private static final AtomicReference<TestBackend.Reply> PUBLISHED = new AtomicReference<>();
    private static TestBackend endpoint;
    private static TestBackend attackerSite;
    private static RunningGateway gateway;

    /** A gateway whose jwt middleware fetches its keys from {@code jwksUrl} for every request. */
    private static String config(String jwksUrl) {
        return GatewayYaml.counting(COUNTER)
                .middleware(GatewayYaml.jwt("""
                        algorithm: RS256
                        jwks-url: %s
                        jwks-timeout: %dms
                        jwks-refresh-interval: 1ms
                        jwks-cache-ttl: 1ms
                        cache-size: 0
                        issuer: modelgate
                        audience: models
                        """.formatted(jwksUrl, JWKS_TIMEOUT.toMillis())))
                .route(MODEL)
                .yaml();
    }

    @BeforeAll
    static void start() throws Exception {
        endpoint = TestBackend.start(request -> PUBLISHED.get());
        String attackerJwks = TestKeys.jwks(TestKeys.jwk("attacker", KeyAlgorithm.RS256, ATTACKER));
        attackerSite = TestBackend.start(request -> TestBackend.Reply.json(200, attackerJwks));
        gateway = RunningGateway.start(config(endpoint.url("/jwks.json")));
    }

    @AfterAll
    static void stop() throws Exception {
        gateway.close();
        endpoint.close();
        attackerSite.close();
    }

    @BeforeEach
    void publishTheFirstKey() {
        PUBLISHED.set(TestBackend.Reply.json(200, TestKeys.jwks(TestKeys.jwk("k1", KeyAlgorithm.RS256, FIRST))));
    }

    private static String token(String kid, KeyPair keys) {
        return TestKeys.claims().withKeyId(kid).sign(KeyAlgorithm.RS256.signing(keys.getPrivate()));
    }

    private static HttpResponse<String> predict(String token) {
        return BearerRequests.predictWithToken(gateway, MODEL, token);
    }

    /** Sends {@code token} and checks it is refused with 401 and {@code code} before reaching the backend. */
    private static void assertRefused(String token, int code) {
        BearerRequests.assertRefused(gateway, COUNTER, MODEL, token, 401, code);
    }

    @Test
    void aTokenSignedWithAPublishedKeyIsAccepted() {
        assertEquals(200, predict(token("k1", FIRST)).statusCode());
    }

    @Test
    void aTokenNamingAPublishedKeyButSignedByAnotherIsRefused() {
        assertRefused(token("k1", ATTACKER), 10103);
    }

    @ParameterizedTest
    @ValueSource(strings = {"k2", "../../../../etc/passwd", "k1/../k1", ""})
    void aKeyIdTheEndpointDoesNotPublishIsRefused(String kid) {
        assertRefused(token(kid, FIRST), 10105);
    }

    @Test
    void aTokenWithoutKeyIdIsRefused() {
        assertRefused(TestKeys.claims().sign(KeyAlgorithm.RS256.signing(FIRST.getPrivate())), 10105);
    }

    @ParameterizedTest
    @ValueSource(strings = {"jku", "x5u"})
    void keyUrlsInTheHeaderAreNeverFetched(String header) {
        String token = TestKeys.claims().withKeyId("attacker")
                .withHeader(Map.of(header, attackerSite.url("/jwks.json")))
                .sign(KeyAlgorithm.RS256.signing(ATTACKER.getPrivate()));

        assertRefused(token, 10105);
        assertEquals(0, attackerSite.calls(), "the gateway fetched a URL from the token");
    }

    @Test
    void aKeyPublishedLaterIsAcceptedAfterTheRefresh() {
        assertRefused(token("k2", SECOND), 10105);

        PUBLISHED.set(TestBackend.Reply.json(200, TestKeys.jwks(TestKeys.jwk("k1", KeyAlgorithm.RS256, FIRST),
                TestKeys.jwk("k2", KeyAlgorithm.RS256, SECOND))));

        assertEquals(200, predict(token("k2", SECOND)).statusCode());
        assertEquals(200, predict(token("k1", FIRST)).statusCode());
    }

    @Test
    void cachedKeysStillServeWhileTheEndpointFails() {
        assertEquals(200, predict(token("k1", FIRST)).statusCode());
        int fetches = endpoint.calls();

        PUBLISHED.set(TestBackend.Reply.json(500, "{\"error\":\"down\"}"));
        HttpResponse<String> response = predict(token("k1", FIRST));

        assertEquals(200, response.statusCode(), response.body());
        assertTrue(endpoint.calls() > fetches, "the gateway should have tried to refresh");
    }

    @Test
    void withoutAnyFetchedKeyAnUnreachableEndpointAnswers503() throws Exception {
        TestBackend gone = TestBackend.start(request -> TestBackend.Reply.json(200, "{}"));
        String url = gone.url("/jwks.json");
        gone.close();
        try (RunningGateway unreachable = RunningGateway.start(config(url))) {
            assertKeysUnavailable(unreachable);
        }
    }

    /** Sends a token to {@code gateway} and checks it answers 503 with 10113, before reaching the backend. */
    private static void assertKeysUnavailable(RunningGateway gateway) {
        int before = CountingBackendProvider.calls(COUNTER);

        HttpResponse<String> response = BearerRequests.predictWithToken(gateway, MODEL, token("k1", FIRST));

        assertEquals(503, response.statusCode(), response.body());
        assertTrue(response.body().contains("\"code\":10113"), response.body());
        assertFalse(response.headers().firstValue("WWW-Authenticate").isPresent());
        assertEquals(before, CountingBackendProvider.calls(COUNTER));
    }

    /** Checks {@code request} is over within about the JWKS timeout, however slowly the endpoint sends its keys. */
    private static void assertWithinTheJwksTimeout(Runnable request) {
        long start = System.nanoTime();
        request.run();
        long took = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertTrue(took < JWKS_TIMEOUT.plusSeconds(2).toMillis(), "the request waited " + took + "ms for the keys");
    }

    @Test
    void withoutAnyFetchedKeyAnEndpointThatNeverFinishesItsAnswerAnswers503AtTheTimeout() throws Exception {
        try (UnfinishedJwks dripping = UnfinishedJwks.start(PUBLISHED.get().body());
                RunningGateway gateway = RunningGateway.start(config(dripping.url()))) {
            dripping.answer(UnfinishedJwks.Answer.DRIP);

            assertWithinTheJwksTimeout(() -> assertKeysUnavailable(gateway));
        }
    }

    @Test
    void cachedKeysStillServeWhileARefreshNeverFinishes() throws Exception {
        try (UnfinishedJwks dripping = UnfinishedJwks.start(PUBLISHED.get().body());
                RunningGateway gateway = RunningGateway.start(config(dripping.url()))) {
            String token = token("k1", FIRST);
            assertEquals(200, BearerRequests.predictWithToken(gateway, MODEL, token).statusCode());
            dripping.answer(UnfinishedJwks.Answer.DRIP);

            assertWithinTheJwksTimeout(() -> assertEquals(200,
                    BearerRequests.predictWithToken(gateway, MODEL, token).statusCode()));
            assertEquals(2, dripping.calls());
        }
    }
}
