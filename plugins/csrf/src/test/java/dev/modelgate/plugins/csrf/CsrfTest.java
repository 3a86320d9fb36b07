package dev.modelgate.plugins.csrf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.modelgate.kernel.Deployment;
import dev.modelgate.kernel.testing.BuiltPlugin;
import dev.modelgate.kernel.testing.RunningGateway;
import dev.modelgate.spi.PhasedMiddleware;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class CsrfTest {

    private static final String APP = "https://app.example.com";
    private static final String PREDICT = "/v1/models/m:predict";
    private static final String BODY = "{\"instances\":[[1]]}";
    private static final String SESSION = "session=s3ss10n; modelgate_csrf=t0k3n-a1";
    private static final String TOKEN = "t0k3n-a1";

    private static RunningGateway gateway;

    @BeforeAll
    static void start() throws Exception {
        gateway = RunningGateway.start(csrf("trusted-origins: [https://app.example.com, 'http://localhost:3000']"));
    }

    @AfterAll
    static void stop() throws Exception {
        gateway.close();
    }

    private static String csrf(String... settings) {
        StringBuilder config = new StringBuilder("middlewares:\n  - type: csrf\n");
        for (String setting : settings) {
            config.append("    ").append(setting).append('\n');
        }
        return config + RunningGateway.ECHO_ROUTE;
    }

    private static HttpResponse<String> predict(String... headers) {
        return gateway.post(PREDICT, "application/json", BODY, headers);
    }

    private static void assertRejected(HttpResponse<String> response, int code) {
        assertEquals(403, response.statusCode(), response.body());
        assertTrue(response.body().contains("\"code\":" + code), response.body());
    }

    @Test
    void aCookiePostFromATrustedOriginWithMatchingTokensPasses() {
        HttpResponse<String> response = predict("Cookie", SESSION, "Origin", APP, "X-CSRF-Token", TOKEN);

        assertEquals(200, response.statusCode(), response.body());
    }

    @Test
    void aCookiePostNamingNoOriginIsRejected() {
        HttpResponse<String> response = predict("Cookie", SESSION, "X-CSRF-Token", TOKEN);

        assertRejected(response, 10401);
        assertTrue(response.body().contains("the request names no Origin or Referer"), response.body());
    }

    @ParameterizedTest
    @ValueSource(strings = {"https://evil.example.net", "https://app.example.com.evil.net", "http://app.example.com",
            "http://localhost:3001", "null"})
    void aCookiePostFromAnUntrustedOriginIsRejectedEvenWithMatchingTokens(String origin) {
        assertRejected(predict("Cookie", SESSION, "Origin", origin, "X-CSRF-Token", TOKEN), 10401);
    }

    @Test
    void theRefererCountsWhenThereIsNoOrigin() {
        HttpResponse<String> trusted = predict("Cookie", SESSION, "Referer", "http://localhost:3000/score?page=2",
                "X-CSRF-Token", TOKEN);
        HttpResponse<String> defaultPort = predict("Cookie", SESSION, "Referer", "https://app.example.com:443/",
                "X-CSRF-Token", TOKEN);
        HttpResponse<String> untrusted = predict("Cookie", SESSION, "Referer", "https://evil.example.net/" + APP,
                "X-CSRF-Token", TOKEN);

        assertEquals(200, trusted.statusCode(), trusted.body());
        assertEquals(200, defaultPort.statusCode(), defaultPort.body());
        assertRejected(untrusted, 10401);
    }

    @Test
    void aMismatchedTokenIsRejected() {
        assertRejected(predict("Cookie", SESSION, "Origin", APP, "X-CSRF-Token", "t0k3n-a2"), 10402);
        assertRejected(predict("Cookie", SESSION, "Origin", APP, "X-CSRF-Token", TOKEN + "0"), 10402);
    }

    @Test
    void aMissingTokenIsRejected() {
        assertRejected(predict("Cookie", SESSION, "Origin", APP), 10402);
        assertRejected(predict("Cookie", "session=s3ss10n", "Origin", APP, "X-CSRF-Token", TOKEN), 10402);
        assertRejected(predict("Cookie", "session=s3ss10n; modelgate_csrf=", "Origin", APP, "X-CSRF-Token", ""),
                10402);
    }

    @Test
    void aTokenCookieSentTwiceIsRejected() {
        assertRejected(predict("Cookie", SESSION + "; modelgate_csrf=planted", "Origin", APP, "X-CSRF-Token", TOKEN),
                10402);
    }

    @Test
    void unsafeMethodsOtherThanPostAreCheckedToo() {
        HttpResponse<String> response = RunningGateway.send(HttpRequest.newBuilder(gateway.uri(PREDICT))
                .method("DELETE", HttpRequest.BodyPublishers.noBody()), "Cookie", SESSION);

        assertRejected(response, 10401);
    }

    @Test
    void safeMethodsPass() {
        HttpResponse<String> response = gateway.get("/v1/models/m", "Cookie", SESSION,
                "Origin", "https://evil.example.net");

        assertEquals(200, response.statusCode(), response.body());
    }

    @Test
    void requestsWithoutCookiesAreNotCookieAuthenticatedAndPass() {
        assertEquals(200, predict().statusCode());
        assertEquals(200, predict("Origin", "https://evil.example.net").statusCode());
    }

    @Test
    void requestsWithABearerTokenOrAnApiKeyAreNotCookieAuthenticatedAndPass() {
        HttpResponse<String> bearer = predict("Cookie", SESSION, "Authorization", "Bearer eyJhbGciOi.x.y");
        HttpResponse<String> apiKey = predict("Cookie", SESSION, "X-API-Key", "k3y",
                "Origin", "https://evil.example.net");

        assertEquals(200, bearer.statusCode(), bearer.body());
        assertEquals(200, apiKey.statusCode(), apiKey.body());
    }

    @Test
    void basicCredentialsAreAttachedByBrowsersSoTheyDoNotExempt() {
        assertRejected(predict("Cookie", SESSION, "Authorization", "Basic dXNlcjpwYXNz"), 10401);
    }

    @Test
    void usesTheConfiguredCookieAndHeaders() throws Exception {
        try (RunningGateway custom = RunningGateway.start(csrf("trusted-origins: [https://App.Example.com]",
                "cookie: __Host-xsrf", "header: X-XSRF-Token", "api-key-header: X-Model-Key"))) {
            HttpResponse<String> matching = custom.post(PREDICT, "application/json", BODY,
                    "Cookie", "__Host-xsrf=\"abc\"", "Origin", APP, "X-XSRF-Token", "abc");
            HttpResponse<String> defaultNames = custom.post(PREDICT, "application/json", BODY,
                    "Cookie", "modelgate_csrf=abc", "Origin", APP, "X-CSRF-Token", "abc");
            HttpResponse<String> apiKey = custom.post(PREDICT, "application/json", BODY,
                    "Cookie", "session=1", "X-Model-Key", "k3y");

            assertEquals(200, matching.statusCode(), matching.body());
            assertRejected(defaultNames, 10402);
            assertEquals(200, apiKey.statusCode(), apiKey.body());
        }
    }

    @Test
    void reportsBadSettingsByKey() {
        List<String> problems = assertThrows(Deployment.InvalidConfigException.class, () -> RunningGateway.start(
                csrf("trusted-origins: ['*', 'https://app.example.com/login', 'app.example.com']",
                        "cookie: 'csrf token'", "header: 'X:Y'")).close()).problems();

        String expected = "is not an origin: write scheme, host and optional port, such as https://app.example.com, "
                + "with no path";
        assertEquals(List.of(
                "middlewares[0].trusted-origins: '*' " + expected,
                "middlewares[0].trusted-origins: 'https://app.example.com/login' " + expected,
                "middlewares[0].trusted-origins: 'app.example.com' " + expected,
                "middlewares[0].cookie: must be a name without spaces or separators, but was 'csrf token'",
                "middlewares[0].header: must be a name without spaces or separators, but was 'X:Y'"), problems);
    }

    @Test
    void requiresTrustedOrigins() {
        List<String> problems = assertThrows(Deployment.InvalidConfigException.class,
                () -> RunningGateway.start(csrf()).close()).problems();

        assertEquals(List.of("middlewares[0].trusted-origins: at least one origin is required, such as "
                + "https://app.example.com"), problems);
    }

    @Test
    void isPhasedSoItNeverHoldsAThreadWhileTheBackendWorks() throws Exception {
        try (var built = BuiltPlugin.middleware(new CsrfProvider(), "trusted-origins: [https://app.example]")) {
            assertInstanceOf(PhasedMiddleware.class, built.instance());
        }
    }
}
