package dev.modelgate.plugins.jwt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import com.auth0.jwt.JWT;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.modelgate.kernel.testing.TestBackend;
import java.net.URI;
import java.security.KeyPair;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

/** The JWKS cache on a real local endpoint, with time advanced by hand: refresh rate, rotation, outages. */
class JwksKeysTest {

    private static final Duration REFRESH_INTERVAL = Duration.ofSeconds(30);
    private static final Duration CACHE_TTL = Duration.ofMinutes(5);
    private static final KeyPair FIRST = TestKeys.rsa(2048);
    private static final KeyPair SECOND = TestKeys.rsa(2048);

    private final MutableClock clock = new MutableClock(Instant.parse("2026-03-01T12:00:00Z"));
    private final AtomicReference<TestBackend.Reply> published = new AtomicReference<>();
    private TestBackend endpoint;
    private final List<JwksKeys> opened = new ArrayList<>();

    @BeforeEach
    void start() throws Exception {
        endpoint = TestBackend.start(request -> published.get());
        publish(TestKeys.jwk("k1", KeyAlgorithm.RS256, FIRST));
    }

    @AfterEach
    void stop() {
        opened.forEach(JwksKeys::close);
        endpoint.close();
    }

    private void publish(ObjectNode... keys) {
        published.set(TestBackend.Reply.json(200, TestKeys.jwks(keys)));
    }

    private JwksKeys keys(KeyAlgorithm algorithm) {
        JwtSettings.JwksSettings settings = new JwtSettings.JwksSettings(URI.create(endpoint.url("/jwks")),
                Duration.ofSeconds(2), REFRESH_INTERVAL, CACHE_TTL);
        JwksKeys keys = new JwksKeys(settings, algorithm, key -> JWT.require(key).build(), clock,
                System.getLogger(JwksKeysTest.class.getName()));
        opened.add(keys);
        return keys;
    }

    @Test
    void keysAreFetchedWhenFirstNeededAndThenServedFromTheCache() {
        JwksKeys keys = keys(KeyAlgorithm.RS256);
        assertEquals(0, endpoint.calls());

        KeySource.Lookup first = keys.find("k1");
        clock.advance(CACHE_TTL.minusSeconds(1));

        assertNotNull(first.verifier());
        assertEquals(first, keys.find("k1"));
        assertEquals(1, endpoint.calls());
    }

    @Test
    void unknownKeyIdsFetchAtMostOncePerRefreshInterval() {
        JwksKeys keys = keys(KeyAlgorithm.RS256);
        keys.find("k1");

        clock.advance(REFRESH_INTERVAL);
        for (int i = 0; i < 50; i++) {
            assertEquals(KeySource.Lookup.UNKNOWN_KEY_ID, keys.find("made-up-" + i));
        }
        assertEquals(2, endpoint.calls());

        clock.advance(REFRESH_INTERVAL.minusSeconds(1));
        keys.find("made-up-again");
        assertEquals(2, endpoint.calls());

        clock.advance(Duration.ofSeconds(1));
        keys.find("made-up-again");
        assertEquals(3, endpoint.calls());
    }

    @Test
    void aFloodOfConcurrentUnknownKeyIdsCostsOneFetch() throws Exception {
        JwksKeys keys = keys(KeyAlgorithm.RS256);
        try (var threads = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<KeySource.Lookup>> answers = new ArrayList<>();
            for (int i = 0; i < 200; i++) {
                String kid = "flood-" + i;
                answers.add(threads.submit(() -> keys.find(kid)));
            }
            for (Future<KeySource.Lookup> answer : answers) {
                assertEquals(KeySource.Lookup.UNKNOWN_KEY_ID, answer.get());
            }
        }
        assertEquals(1, endpoint.calls());
    }

    @Test
    void aRotatedInKeyIsFoundOnceTheRefreshIntervalHasPassed() {
        JwksKeys keys = keys(KeyAlgorithm.RS256);
        keys.find("k1");
        publish(TestKeys.jwk("k1", KeyAlgorithm.RS256, FIRST), TestKeys.jwk("k2", KeyAlgorithm.RS256, SECOND));

        assertEquals(KeySource.Lookup.UNKNOWN_KEY_ID, keys.find("k2"));
        clock.advance(REFRESH_INTERVAL);
        String token = TestKeys.claims().withKeyId("k2").sign(KeyAlgorithm.RS256.signing(SECOND.getPrivate()));

        keys.find("k2").verifier().verify(token);
        assertEquals(2, endpoint.calls());
    }

    @Test
    void aRotatedOutKeyIsDroppedWhenTheCacheExpires() {
        JwksKeys keys = keys(KeyAlgorithm.RS256);
        keys.find("k1");
        publish(TestKeys.jwk("k2", KeyAlgorithm.RS256, SECOND));

        clock.advance(CACHE_TTL);

        assertEquals(KeySource.Lookup.UNKNOWN_KEY_ID, keys.find("k1"));
        assertNotNull(keys.find("k2").verifier());
        assertEquals(2, endpoint.calls());
    }

    @ParameterizedTest(name = "answering {0} {1}")
    @CsvSource(delimiter = '|', value = {"500 | {}", "200 | [\"not\", \"a\", \"jwks\"]"})
    void cachedKeysStayInUseWhileTheEndpointFailsOrServesSomethingElseThanAJwks(int status, String body) {
        JwksKeys keys = keys(KeyAlgorithm.RS256);
        KeySource.Lookup cached = keys.find("k1");
        published.set(TestBackend.Reply.json(status, body));

        clock.advance(CACHE_TTL);
        assertEquals(cached, keys.find("k1"));
        assertEquals(2, endpoint.calls());
        clock.advance(REFRESH_INTERVAL);
        assertEquals(cached, keys.find("k1"));

        assertEquals(3, endpoint.calls());
    }

    @Test
    void cachedKeysStayInUseWhileTheEndpointIsGone() {
        JwksKeys keys = keys(KeyAlgorithm.RS256);
        KeySource.Lookup cached = keys.find("k1");
        endpoint.close();

        clock.advance(CACHE_TTL);

        assertEquals(cached, keys.find("k1"));
        assertEquals(KeySource.Lookup.UNKNOWN_KEY_ID, keys.find("k9"));
    }

    @Test
    void withoutCachedKeysAFailingEndpointMakesKeysUnavailableUntilItRecovers() {
        JwksKeys keys = keys(KeyAlgorithm.RS256);
        published.set(TestBackend.Reply.json(503, "{}"));

        assertEquals(KeySource.Lookup.KEYS_UNAVAILABLE, keys.find("k1"));
        assertEquals(KeySource.Lookup.KEYS_UNAVAILABLE, keys.find("k1"));
        assertEquals(1, endpoint.calls());

        publish(TestKeys.jwk("k1", KeyAlgorithm.RS256, FIRST));
        clock.advance(REFRESH_INTERVAL);
        assertNotNull(keys.find("k1").verifier());
    }

    @Test
    void aTokenWithoutKeyIdOrWithAPathForKeyIdFindsNothingAndFetchesNothing() {
        JwksKeys keys = keys(KeyAlgorithm.RS256);
        keys.find("k1");
        clock.advance(REFRESH_INTERVAL.minusSeconds(1));

        assertEquals(KeySource.Lookup.NO_KEY_ID, keys.find(null));
        assertEquals(KeySource.Lookup.UNKNOWN_KEY_ID, keys.find("../../../etc/passwd"));
        assertEquals(1, endpoint.calls());
    }

    @Test
    void onlySigningKeysForTheConfiguredAlgorithmAreKept() {
        ObjectNode encryption = TestKeys.jwk("enc", KeyAlgorithm.RS256, FIRST).put("use", "enc");
        ObjectNode otherAlgorithm = TestKeys.jwk("rs512", KeyAlgorithm.RS512, FIRST);
        ObjectNode ellipticCurve = TestKeys.jwk("ec", KeyAlgorithm.ES256, TestKeys.ec("secp256r1"));
        ObjectNode noKeyId = TestKeys.jwk("", KeyAlgorithm.RS256, FIRST);
        ObjectNode tooShort = TestKeys.jwk("short", KeyAlgorithm.RS256, TestKeys.rsa(1024));
        ObjectNode noAlgorithm = TestKeys.jwk("plain", KeyAlgorithm.RS256, FIRST);
        noAlgorithm.remove("alg");
        publish(encryption, otherAlgorithm, ellipticCurve, noKeyId, tooShort, noAlgorithm,
                TestKeys.jwk("good", KeyAlgorithm.RS256, FIRST));
        JwksKeys keys = keys(KeyAlgorithm.RS256);

        for (String ignored : List.of("enc", "rs512", "ec", "", "short")) {
            assertEquals(KeySource.Lookup.UNKNOWN_KEY_ID, keys.find(ignored), ignored);
        }
        assertNotNull(keys.find("plain").verifier());
        assertNotNull(keys.find("good").verifier());
    }

    @ParameterizedTest
    @EnumSource(value = KeyAlgorithm.class, names = {"ES256", "ES384", "ES512"})
    void ellipticCurveKeysOfTheConfiguredCurveVerifyTokens(KeyAlgorithm algorithm) {
        KeyPair pair = TestKeys.keyPair(algorithm);
        KeyAlgorithm otherCurve = algorithm == KeyAlgorithm.ES256 ? KeyAlgorithm.ES384 : KeyAlgorithm.ES256;
        ObjectNode wrongCurve = TestKeys.jwk("other", algorithm, TestKeys.keyPair(otherCurve))
                .put("crv", otherCurve.jwkCurve());
        publish(wrongCurve, TestKeys.jwk("ec", algorithm, pair));
        JwksKeys keys = keys(algorithm);
        String token = TestKeys.claims().withKeyId("ec").sign(algorithm.signing(pair.getPrivate()));

        keys.find("ec").verifier().verify(token);
        assertEquals(KeySource.Lookup.UNKNOWN_KEY_ID, keys.find("other"));
    }
}
