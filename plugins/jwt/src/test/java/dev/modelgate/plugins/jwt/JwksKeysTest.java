package dev.modelgate.plugins.jwt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.auth0.jwt.JWT;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.modelgate.kernel.testing.Await;
import dev.modelgate.kernel.testing.TestBackend;
import java.io.IOException;
import java.net.URI;
import java.security.KeyPair;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/** The JWKS cache on a real local endpoint, with time advanced by hand: refresh rate, rotation, outages. */
class JwksKeysTest {

    private static final Duration REFRESH_INTERVAL = Duration.ofSeconds(30);
    private static final Duration CACHE_TTL = Duration.ofMinutes(5);
    /** Generous, as the endpoint answers at once: only the tests of unfinished answers wait for a timeout. */
    private static final Duration TIMEOUT = Duration.ofSeconds(10);
    private static final Duration SHORT_TIMEOUT = Duration.ofMillis(500);
    private static final KeyPair FIRST = TestKeys.rsa(2048);
    private static final KeyPair SECOND = TestKeys.rsa(2048);

    private final MutableClock clock = new MutableClock(Instant.parse("2026-03-01T12:00:00Z"));
    private final AtomicReference<TestBackend.Reply> published = new AtomicReference<>();
    private volatile TestBackend.Handler answering = request -> published.get();
    private TestBackend endpoint;
    private final List<JwksKeys> opened = new ArrayList<>();

    @BeforeEach
    void start() throws Exception {
        endpoint = TestBackend.start(request -> answering.handle(request));
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
        return keys(endpoint.url("/jwks"), TIMEOUT, algorithm);
    }

    private JwksKeys keys(String url, Duration timeout, KeyAlgorithm algorithm) {
        JwtSettings.JwksSettings settings =
                new JwtSettings.JwksSettings(URI.create(url), timeout, REFRESH_INTERVAL, CACHE_TTL);
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

    @ParameterizedTest(name = "answering {0}")
    @ValueSource(ints = {200, 503})
    void theRefreshIntervalCountsFromTheEndOfASlowFetch(int status) {
        JwksKeys keys = keys(KeyAlgorithm.RS256);
        keys.find("k1");
        answering = request -> {
            clock.advance(REFRESH_INTERVAL);
            return status == 200 ? published.get() : TestBackend.Reply.json(status, "{}");
        };

        clock.advance(REFRESH_INTERVAL);
        keys.find("k2");
        clock.advance(REFRESH_INTERVAL.minusSeconds(1));
        keys.find("k2");
        assertEquals(2, endpoint.calls());

        clock.advance(Duration.ofSeconds(1));
        keys.find("k2");
        assertEquals(3, endpoint.calls());
    }

    /** One request for key id {@code kid}, on a thread of its own. */
    private record Ask(String kid, FutureTask<KeySource.Lookup> answer, Thread thread) {
        static Ask start(JwksKeys keys, String kid) {
            FutureTask<KeySource.Lookup> answer = new FutureTask<>(() -> keys.find(kid));
            return new Ask(kid, answer, Thread.ofVirtual().start(answer));
        }

        KeySource.Lookup lookup() throws Exception {
            return answer.get(10, TimeUnit.SECONDS);
        }
    }

    /** Returns once every one of {@code asks} is parked, which before a fetch can only be waiting for the lock. */
    private static void awaitParked(List<Ask> asks) {
        Await.until("the requests queued for the fetch",
                () -> asks.stream().allMatch(ask -> ask.thread().getState() == Thread.State.WAITING));
    }

    @Test
    void requestsQueuedBehindASlowFetchTakeItsAnswerInsteadOfFetchingAgain() throws Exception {
        JwksKeys keys = keys(KeyAlgorithm.RS256);
        keys.find("k1");
        publish(TestKeys.jwk("k1", KeyAlgorithm.RS256, FIRST), TestKeys.jwk("k2", KeyAlgorithm.RS256, SECOND));
        CountDownLatch fetching = new CountDownLatch(1);
        CountDownLatch answer = new CountDownLatch(1);
        answering = request -> {
            fetching.countDown();
            answer.await();
            return published.get();
        };
        clock.advance(REFRESH_INTERVAL);

        Ask first = Ask.start(keys, "k2");
        List<Ask> queued = new ArrayList<>();
        try {
            assertTrue(fetching.await(10, TimeUnit.SECONDS), "the first request did not fetch");
            for (int i = 0; i < 50; i++) {
                queued.add(Ask.start(keys, i % 2 == 0 ? "k2" : "made-up-" + i));
            }
            awaitParked(queued);
            // However soon the queue gets the lock, the refresh interval has passed since the fetch ended.
            clock.tickOnEveryReading(REFRESH_INTERVAL);
        } finally {
            answer.countDown();
        }

        KeySource.Lookup k2 = first.lookup();
        List<KeySource.Lookup> answers = new ArrayList<>();
        for (Ask ask : queued) {
            answers.add(ask.lookup());
        }
        assertEquals(2, endpoint.calls());
        assertNotNull(k2.verifier());
        for (int i = 0; i < queued.size(); i++) {
            String kid = queued.get(i).kid();
            assertEquals(kid.equals("k2") ? k2 : KeySource.Lookup.UNKNOWN_KEY_ID, answers.get(i), kid);
        }
    }

    /** An endpoint publishing k1 until told to leave its answers unfinished. */
    private static UnfinishedJwks unfinished() throws IOException {
        return UnfinishedJwks.start(TestKeys.jwks(TestKeys.jwk("k1", KeyAlgorithm.RS256, FIRST)));
    }

    @Test
    void aBodyThatNeverFinishesIsGivenUpAtTheTimeoutAndLeavesKeysUnavailable() throws Exception {
        try (UnfinishedJwks dripping = unfinished()) {
            dripping.answer(UnfinishedJwks.Answer.DRIP);
            JwksKeys keys = keys(dripping.url(), SHORT_TIMEOUT, KeyAlgorithm.RS256);

            assertGivesUpAtTheTimeout(KeySource.Lookup.KEYS_UNAVAILABLE, () -> keys.find("k1"), dripping);
        }
    }

    @Test
    void aCachedKeyStaysInUseWhenItsRefreshNeverFinishes() throws Exception {
        try (UnfinishedJwks dripping = unfinished()) {
            JwksKeys keys = keys(dripping.url(), SHORT_TIMEOUT, KeyAlgorithm.RS256);
            KeySource.Lookup cached = keys.find("k1");
            dripping.answer(UnfinishedJwks.Answer.DRIP);
            clock.advance(CACHE_TTL);

            assertGivesUpAtTheTimeout(cached, () -> keys.find("k1"), dripping);
            assertEquals(2, dripping.calls());
        }
    }

    /** Checks {@code find} answers {@code expected} about {@link #SHORT_TIMEOUT} after it started, hanging up. */
    private static void assertGivesUpAtTheTimeout(KeySource.Lookup expected,
            Supplier<KeySource.Lookup> find, UnfinishedJwks endpoint) throws Exception {
        long start = System.nanoTime();
        KeySource.Lookup lookup = find.get();
        long took = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);

        assertEquals(expected, lookup);
        assertTrue(took < SHORT_TIMEOUT.plusSeconds(2).toMillis(),
                "bounded by the timeout, not by the endpoint's pace: " + took + "ms");
        assertTrue(endpoint.hungUpWithin(Duration.ofSeconds(5)), "the fetch left the connection open");
    }

    @Test
    void aDocumentOverTheSizeLimitIsDroppedUnread() throws Exception {
        try (UnfinishedJwks endless = unfinished()) {
            endless.answer(UnfinishedJwks.Answer.ENDLESS);
            JwksKeys keys = keys(endless.url(), TIMEOUT, KeyAlgorithm.RS256);

            assertEquals(KeySource.Lookup.KEYS_UNAVAILABLE, keys.find("k1"));
            assertTrue(endless.hungUpWithin(Duration.ofSeconds(5)), "the fetch read on past the size limit");
        }
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
