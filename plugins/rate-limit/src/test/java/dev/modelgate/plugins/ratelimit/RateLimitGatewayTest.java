package dev.modelgate.plugins.ratelimit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.modelgate.kernel.Deployment;
import dev.modelgate.kernel.testing.Await;
import dev.modelgate.kernel.testing.RunningGateway;
import java.net.http.HttpResponse;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The middleware in a real gateway: answers, headers, keys, configuration, and Redis shared and lost. */
class RateLimitGatewayTest {

    private static final String MODEL = "/v1/models/m";

    @RegisterExtension
    static final RedisServerExtension REDIS = new RedisServerExtension();

    /** A rate-limit entry with {@code settings} (indented as its keys), after {@code before}, on the echo route. */
    private static String config(String before, String settings) {
        return "middlewares:\n" + before + "  - type: rate-limit\n" + settings.indent(4) + RunningGateway.ECHO_ROUTE;
    }

    /** A gateway with one rate-limit middleware with {@code settings}, on the echo route. */
    private static RunningGateway gatewayLimiting(String settings) throws Exception {
        return RunningGateway.start(config("", settings));
    }

    /** The {@code limits} setting of one request an hour after a {@code burst}. */
    private static String oneAnHourAfterABurstOf(int burst) {
        return """
                limits:
                  - rate: 1
                    period: 1h
                    burst: %d
                """.formatted(burst);
    }

    private static String header(HttpResponse<String> response, String name) {
        return response.headers().firstValue(name).orElse(null);
    }

    private static void assertAdmitted(HttpResponse<String> response) {
        assertAdmitted(response, "");
    }

    private static void assertAdmitted(HttpResponse<String> response, String why) {
        assertEquals(200, response.statusCode(), why + " " + response.body());
    }

    private static void assertLimited(HttpResponse<String> response) {
        assertLimited(response, "");
    }

    private static void assertLimited(HttpResponse<String> response, String why) {
        assertEquals(429, response.statusCode(), why + " " + response.body());
        assertTrue(response.body().contains("\"code\":30101"), response.body());
    }

    /**
     * A header counting down whole seconds, rounded up, from {@code seconds} when the requests began: less by at most
     * the whole seconds they took, so that a loaded machine cannot make the test miss an exact value.
     */
    private static void assertSecondsLess(long seconds, long tookNanos, String header) {
        long took = (tookNanos + 999_999_999) / 1_000_000_000;
        long value = Long.parseLong(header);
        assertTrue(value <= seconds && value >= seconds - took,
                header + " is not " + seconds + "s less the " + took + "s the requests took at most");
    }

    @Test
    void aRefusedRequestIs429WithRetryAfterAndTheRateLimitHeaders() throws Exception {
        try (RunningGateway gateway = gatewayLimiting("""
                limits:
                  - rate: 1
                    period: 1m
                    burst: 2
                """)) {
            long start = System.nanoTime();
            HttpResponse<String> first = gateway.get(MODEL);
            HttpResponse<String> second = gateway.get(MODEL);
            HttpResponse<String> refused = gateway.get(MODEL);
            long tookNanos = System.nanoTime() - start;

            assertAdmitted(first);
            assertEquals("2", header(first, "RateLimit-Limit"));
            assertEquals("1", header(first, "RateLimit-Remaining"));
            assertSecondsLess(60, tookNanos, header(first, "RateLimit-Reset"));
            assertAdmitted(second);
            assertEquals("0", header(second, "RateLimit-Remaining"));
            assertLimited(refused);
            assertSecondsLess(60, tookNanos, header(refused, "Retry-After"));
            assertEquals("2", header(refused, "RateLimit-Limit"));
            assertEquals("0", header(refused, "RateLimit-Remaining"));
            assertSecondsLess(120, tookNanos, header(refused, "RateLimit-Reset"));
            assertEquals(2, gateway.metric(
                    "modelgate_rate_limit_decisions_total{decision=\"allowed\",limiter=\"middlewares[0]\"}"));
            assertEquals(1, gateway.metric(
                    "modelgate_rate_limit_decisions_total{decision=\"denied\",limiter=\"middlewares[0]\"}"));
        }
    }

    @Test
    void perSecondAndPerMinuteLimitsTogetherAnnounceTheMostRestrictive() throws Exception {
        try (RunningGateway gateway = gatewayLimiting("""
                limits:
                  - rate: 100
                    period: 1s
                  - rate: 3
                    period: 1m
                """)) {
            long start = System.nanoTime();
            HttpResponse<String> first = gateway.get(MODEL);
            assertEquals("3", header(first, "RateLimit-Limit"));
            assertEquals("2", header(first, "RateLimit-Remaining"));
            assertAdmitted(gateway.get(MODEL));
            assertAdmitted(gateway.get(MODEL));

            HttpResponse<String> refused = gateway.get(MODEL);
            assertLimited(refused);
            assertEquals("3", header(refused, "RateLimit-Limit"));
            assertSecondsLess(20, System.nanoTime() - start, header(refused, "Retry-After"));
        }
    }

    @Test
    void keyedBySubjectEachPrincipalHasItsOwnBucketAndAnonymousRequestsShareTheirAddresss() throws Exception {
        try (RunningGateway gateway = RunningGateway.start(config("  - type: header-principal\n", """
                key: subject
                """ + oneAnHourAfterABurstOf(2)))) {
            assertAdmitted(gateway.get(MODEL, "X-Test-Subject", "alice"));
            assertAdmitted(gateway.get(MODEL, "X-Test-Subject", "alice"));
            assertLimited(gateway.get(MODEL, "X-Test-Subject", "alice"));
            assertAdmitted(gateway.get(MODEL, "X-Test-Subject", "bob"));
            assertAdmitted(gateway.get(MODEL));
            assertAdmitted(gateway.get(MODEL));
            assertLimited(gateway.get(MODEL));
            assertAdmitted(gateway.get(MODEL, "X-Test-Subject", "127.0.0.1"), "a subject never shares an address's");
        }
    }

    @Test
    void keyedByAHeaderEachValueHasItsOwnBucket() throws Exception {
        try (RunningGateway gateway = gatewayLimiting("""
                key: header:X-Tenant
                """ + oneAnHourAfterABurstOf(1))) {
            assertAdmitted(gateway.get(MODEL, "X-Tenant", "acme"));
            assertLimited(gateway.get(MODEL, "X-Tenant", "acme"));
            assertAdmitted(gateway.get(MODEL, "X-Tenant", "globex"));
            assertAdmitted(gateway.get(MODEL, "X-Tenant", "x".repeat(4000)));
            assertLimited(gateway.get(MODEL, "X-Tenant", "x".repeat(4000)));
        }
    }

    @Test
    void behindATrustedProxyTheRightMostUntrustedForwardedAddressIsTheClient() throws Exception {
        try (RunningGateway gateway = gatewayLimiting("""
                key: client-ip
                trusted-proxies: [127.0.0.1/32, 10.0.0.0/8]
                """ + oneAnHourAfterABurstOf(1))) {
            assertAdmitted(gateway.get(MODEL, "X-Forwarded-For", "203.0.113.9"));
            assertLimited(gateway.get(MODEL, "X-Forwarded-For", "203.0.113.9"));
            assertLimited(gateway.get(MODEL, "X-Forwarded-For", "198.51.100.1, 203.0.113.9, 10.1.2.3"),
                    "what the client wrote left of its own address is ignored");
            assertAdmitted(gateway.get(MODEL, "X-Forwarded-For", "203.0.113.10"));
            assertAdmitted(gateway.get(MODEL));
            assertLimited(gateway.get(MODEL));
        }
    }

    @Test
    void theSharedServerTrustedProxiesSettingKeysByTheForwardedClient() throws Exception {
        try (RunningGateway gateway = RunningGateway.start("server:\n  trusted-proxies: [127.0.0.1/32]\n"
                + config("", "key: client-ip\n" + oneAnHourAfterABurstOf(1)))) {
            assertAdmitted(gateway.get(MODEL, "X-Forwarded-For", "203.0.113.9"));
            assertLimited(gateway.get(MODEL, "X-Forwarded-For", "203.0.113.9"));
            assertAdmitted(gateway.get(MODEL, "X-Forwarded-For", "203.0.113.10"));
        }
    }

    @Test
    void forwardedAddressesFromAnUntrustedPeerAreIgnored() throws Exception {
        try (RunningGateway gateway = gatewayLimiting("""
                key: client-ip
                trusted-proxies: [10.0.0.0/8]
                """ + oneAnHourAfterABurstOf(2))) {
            assertAdmitted(gateway.get(MODEL, "X-Forwarded-For", "203.0.113.1"));
            assertAdmitted(gateway.get(MODEL, "X-Forwarded-For", "203.0.113.2"));
            assertLimited(gateway.get(MODEL, "X-Forwarded-For", "203.0.113.3"));
            assertLimited(gateway.get(MODEL));
        }
    }

    @Test
    void reportsConfigurationProblemsByKey() {
        List<String> problems = problems(config("", """
                key: cookie
                store: redis
                on-redis-failure: fail-sometimes
                trusted-proxies: [10.0.0.0/33, proxy.example]
                limits:
                  - algorithm: sliding-window
                    rate: 10
                  - rate: 0
                  - algorithm: leaky-bucket
                    period: 48h
                """));

        assertEquals(List.of(
                "middlewares[0].trusted-proxies[0]: must be an address or a CIDR block such as 10.0.0.0/8 or "
                        + "2001:db8::/32: the prefix length after '/' must be between 0 and 32",
                "middlewares[0].trusted-proxies[1]: must be an address or a CIDR block such as 10.0.0.0/8 or "
                        + "2001:db8::/32: 'proxy.example' is not an IP address",
                "middlewares[0].key: must be subject, api-key, client-ip, route or header:NAME, but was 'cookie'",
                "middlewares[0].limits[0].algorithm: must be token-bucket or leaky-bucket, but was 'sliding-window'",
                "middlewares[0].limits[1].rate: must be between 1 and 1000000, but was 0",
                "middlewares[0].limits[2].rate: is required",
                "middlewares[0].limits[2].period: must be at most 24h, but was 48h",
                "middlewares[0].redis-url: is required",
                "middlewares[0].on-redis-failure: must be fail-open, fail-closed or local, but was 'fail-sometimes'"),
                problems);
    }

    @Test
    void redisSettingsWithTheLocalStoreAndABadRedisUrlAreReported() {
        assertEquals(List.of("middlewares[0].redis-url: applies only with store: redis"), problems(config("", """
                redis-url: redis://127.0.0.1:6379
                limits:
                  - rate: 1
                """)));
        assertEquals(List.of("middlewares[0].redis-url: must be redis://HOST:PORT or rediss://HOST:PORT (with "
                + "USER:PASSWORD@ and /DB if needed)"), problems(config("", """
                store: redis
                redis-url: http://user:secret@127.0.0.1:6379
                limits:
                  - rate: 1
                """)));
    }

    private static List<String> problems(String config) {
        return assertThrows(Deployment.InvalidConfigException.class, () -> RunningGateway.start(config).close())
                .problems();
    }

    private static String redisConfig(String policy) {
        return config("", """
                store: redis
                redis-url: %s
                redis-backoff: 100ms
                on-redis-failure: %s
                """.formatted(REDIS.server().url(), policy) + oneAnHourAfterABurstOf(3));
    }

    @Test
    void twoGatewaysSharingOneRedisEnforceOneLimit() throws Exception {
        try (RunningGateway first = RunningGateway.start(redisConfig("fail-closed"));
                RunningGateway second = RunningGateway.start(redisConfig("fail-closed"))) {
            assertAdmitted(first.get(MODEL));
            assertAdmitted(second.get(MODEL));
            HttpResponse<String> third = first.get(MODEL);
            assertAdmitted(third);
            assertEquals("0", header(third, "RateLimit-Remaining"));

            assertLimited(second.get(MODEL));
            assertLimited(first.get(MODEL));
        }
    }

    @Test
    void withRedisDownEachPolicyAnswersPromptlyWithoutA500AndTheGatewayStaysReady() throws Exception {
        try (RunningGateway open = RunningGateway.start(redisConfig("fail-open"));
                RunningGateway closed = RunningGateway.start(redisConfig("fail-closed"));
                RunningGateway local = RunningGateway.start(redisConfig("local"))) {
            assertAdmitted(open.get(MODEL));
            REDIS.server().stop();

            for (int i = 0; i < 5; i++) {
                HttpResponse<String> admitted = timed(open);
                assertAdmitted(admitted);
                assertNull(header(admitted, "RateLimit-Remaining"), "nothing was counted");

                HttpResponse<String> refused = timed(closed);
                assertEquals(503, refused.statusCode(), refused.body());
                assertTrue(refused.body().contains("\"code\":30102"), refused.body());
            }
            assertAdmitted(timed(local));
            assertAdmitted(timed(local));
            assertAdmitted(timed(local));
            assertLimited(timed(local));
            for (RunningGateway gateway : List.of(open, closed, local)) {
                assertEquals(200, gateway.adminGet("/readyz").statusCode());
            }
            assertTrue(open.metric("modelgate_rate_limit_redis_failures_total{limiter=\"middlewares[0]\"}") >= 1);
            assertEquals(5, open.metric(
                    "modelgate_rate_limit_fallbacks_total{limiter=\"middlewares[0]\",policy=\"fail-open\"}"));

            REDIS.server().startAgain();
            awaitCountedByRedis(open);
        }
    }

    /** A request to {@code gateway}, which must come back within the Redis timeout plus generous slack. */
    private static HttpResponse<String> timed(RunningGateway gateway) {
        long start = System.nanoTime();
        HttpResponse<String> response = gateway.get(MODEL);
        long tookMillis = (System.nanoTime() - start) / 1_000_000;
        assertTrue(tookMillis < 1000, "took " + tookMillis + "ms");
        return response;
    }

    /** Waits, up to a deadline, for the fail-open gateway's answers to carry headers again: Redis counts them. */
    private static void awaitCountedByRedis(RunningGateway gateway) {
        Await.until("Redis used again after its return",
                () -> header(gateway.get(MODEL), "RateLimit-Remaining") != null);
    }
}
