package dev.modelgate.plugins.cors;

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
import java.util.Locale;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class CorsTest {

    private static final String APP = "https://app.example.com";
    private static final String PREDICT = "/v1/models/m:predict";
    private static final String BODY = "{\"instances\":[[1]]}";
    private static final String ALLOW_ORIGIN = "Access-Control-Allow-Origin";
    private static final String ALLOW_METHODS = "Access-Control-Allow-Methods";

    private static RunningGateway gateway;

    @BeforeAll
    static void start() throws Exception {
        gateway = RunningGateway.start(cors("origins: [https://app.example.com, https://admin.example.com:8443]"));
    }

    @AfterAll
    static void stop() throws Exception {
        gateway.close();
    }

    /** cors with {@code settings}, then a {@code stamp} that marks every response the rest of the pipeline made. */
    private static String cors(String... settings) {
        StringBuilder config = new StringBuilder("middlewares:\n  - type: cors\n");
        for (String setting : settings) {
            config.append("    ").append(setting).append('\n');
        }
        return config + "  - type: stamp\n    name: pipeline\n" + RunningGateway.ECHO_ROUTE;
    }

    /** {@code OPTIONS path} with headers given as name, value, name, value. */
    private static HttpResponse<String> options(RunningGateway gateway, String path, String... headers) {
        return RunningGateway.send(
                HttpRequest.newBuilder(gateway.uri(path)).method("OPTIONS", HttpRequest.BodyPublishers.noBody()),
                headers);
    }

    private static String header(HttpResponse<String> response, String name) {
        return response.headers().firstValue(name).orElse(null);
    }

    private static void assertNoCorsHeaders(HttpResponse<String> response) {
        List<String> cors = response.headers().map().keySet().stream()
                .filter(name -> name.toLowerCase(Locale.ROOT).startsWith("access-control-"))
                .toList();
        assertEquals(List.of(), cors);
        assertEquals("Origin", header(response, "Vary"));
    }

    @Test
    void anAllowedPreflightIsAnsweredByTheGatewayWithTheAllowHeaders() {
        HttpResponse<String> response = options(gateway, PREDICT, "Origin", APP,
                "Access-Control-Request-Method", "POST",
                "Access-Control-Request-Headers", "content-type,x-api-key");

        assertEquals(204, response.statusCode());
        assertEquals(APP, header(response, ALLOW_ORIGIN));
        assertEquals("GET, POST", header(response, ALLOW_METHODS));
        assertEquals("Content-Type, Authorization, X-API-Key, X-Request-Id",
                header(response, "Access-Control-Allow-Headers"));
        assertEquals("600", header(response, "Access-Control-Max-Age"));
        assertEquals("Origin", header(response, "Vary"));
        assertEquals(null, header(response, "Access-Control-Allow-Credentials"));
        assertEquals(null, header(response, "X-Trail"), "the rest of the pipeline must not run");
        assertEquals("", response.body());
    }

    @Test
    void aPreflightIsAnsweredBeforeAMiddlewareThatWouldRejectIt() throws Exception {
        // As authentication would: browsers send a preflight without credentials.
        try (RunningGateway rejecting = RunningGateway.start("""
                middlewares:
                  - type: cors
                    origins: [https://app.example.com]
                  - type: stamp
                    name: authentication
                    reject: true
                """ + RunningGateway.ECHO_ROUTE)) {
            HttpResponse<String> preflight = options(rejecting, PREDICT, "Origin", APP,
                    "Access-Control-Request-Method", "POST");
            HttpResponse<String> actual = rejecting.post(PREDICT, "application/json", BODY, "Origin", APP);

            assertEquals(204, preflight.statusCode(), preflight.body());
            assertEquals(APP, header(preflight, ALLOW_ORIGIN));
            assertEquals(404, actual.statusCode());
            assertEquals(APP, header(actual, ALLOW_ORIGIN), "so that the page can read why it was rejected");
        }
    }

    @Test
    void aPreflightFromAnOriginNotListedIsAnsweredWithoutCorsHeaders() {
        HttpResponse<String> response = options(gateway, PREDICT, "Origin", "https://evil.example.net",
                "Access-Control-Request-Method", "POST");

        assertEquals(204, response.statusCode());
        assertNoCorsHeaders(response);
        assertEquals(null, header(response, "X-Trail"));
    }

    @Test
    void aPreflightForAMethodNotAllowedGetsNoAllowHeaders() {
        assertNoCorsHeaders(options(gateway, PREDICT, "Origin", APP, "Access-Control-Request-Method", "DELETE"));
        assertNoCorsHeaders(options(gateway, PREDICT, "Origin", APP, "Access-Control-Request-Method", "post"));
    }

    @Test
    void aPreflightForAHeaderNotAllowedGetsNoAllowHeaders() {
        HttpResponse<String> response = options(gateway, PREDICT, "Origin", APP,
                "Access-Control-Request-Method", "POST",
                "Access-Control-Request-Headers", "content-type, x-debug-mode");

        assertEquals(204, response.statusCode());
        assertNoCorsHeaders(response);
    }

    @Test
    void anOptionsRequestThatIsNotAPreflightGoesDownThePipeline() {
        HttpResponse<String> response = options(gateway, PREDICT, "Origin", APP);

        assertEquals(405, response.statusCode());
        assertEquals("pipeline", header(response, "X-Trail"));
        assertEquals(APP, header(response, ALLOW_ORIGIN));
    }

    @Test
    void anActualRequestFromAnAllowedOriginGetsItsOriginExposedHeadersAndVary() {
        HttpResponse<String> response = gateway.post(PREDICT, "application/json", BODY, "Origin", APP);

        assertEquals(200, response.statusCode(), response.body());
        assertEquals(APP, header(response, ALLOW_ORIGIN));
        assertEquals("X-Request-Id", header(response, "Access-Control-Expose-Headers"));
        assertEquals("Origin", header(response, "Vary"));
        assertEquals(null, header(response, "Access-Control-Allow-Credentials"));
        assertEquals(null, header(response, ALLOW_METHODS), "allow headers belong to preflight answers");
    }

    @Test
    void errorResponsesCarryTheCorsHeadersSoPagesCanReadThem() {
        HttpResponse<String> response = gateway.get("/v1/models/no-such-model", "Origin",
                "https://admin.example.com:8443");

        assertEquals(404, response.statusCode());
        assertEquals("https://admin.example.com:8443", header(response, ALLOW_ORIGIN));
    }

    @Test
    void anActualRequestFromAnOriginNotListedIsServedWithoutCorsHeaders() {
        HttpResponse<String> response = gateway.post(PREDICT, "application/json", BODY,
                "Origin", "https://evil.example.net");

        assertEquals(200, response.statusCode(), response.body());
        assertNoCorsHeaders(response);
    }

    @ParameterizedTest
    @ValueSource(strings = {"https://app.example.com.evil.net", "http://app.example.com", "https://app.example.com:443",
            "https://admin.example.com", "null", "https://APP.example.com"})
    void originsMustMatchExactly(String origin) {
        assertNoCorsHeaders(gateway.get("/v1/models", "Origin", origin));
        assertNoCorsHeaders(options(gateway, PREDICT, "Origin", origin, "Access-Control-Request-Method", "POST"));
    }

    @Test
    void withCredentialsTheExactOriginIsAllowedWithCredentials() throws Exception {
        try (RunningGateway credentials = RunningGateway.start(cors("origins: [https://App.Example.com]",
                "credentials: true", "methods: [post, put]", "max-age: 1h", "expose-headers: []"))) {
            HttpResponse<String> preflight = options(credentials, PREDICT, "Origin", APP,
                    "Access-Control-Request-Method", "PUT");
            HttpResponse<String> actual = credentials.post(PREDICT, "application/json", BODY, "Origin", APP);

            assertEquals(APP, header(preflight, ALLOW_ORIGIN));
            assertEquals("true", header(preflight, "Access-Control-Allow-Credentials"));
            assertEquals("POST, PUT", header(preflight, ALLOW_METHODS));
            assertEquals("3600", header(preflight, "Access-Control-Max-Age"));
            assertEquals(APP, header(actual, ALLOW_ORIGIN));
            assertEquals("true", header(actual, "Access-Control-Allow-Credentials"));
            assertEquals(null, header(actual, "Access-Control-Expose-Headers"));
        }
    }

    @Test
    void aWildcardAllowsEveryOriginWithoutNamingIt() throws Exception {
        try (RunningGateway any = RunningGateway.start(cors("origins: ['*']"))) {
            HttpResponse<String> preflight = options(any, PREDICT, "Origin", "https://anyone.example.org",
                    "Access-Control-Request-Method", "POST");
            HttpResponse<String> actual = any.get("/v1/models", "Origin", "https://anyone.example.org");

            assertEquals("*", header(preflight, ALLOW_ORIGIN));
            assertEquals("*", header(actual, ALLOW_ORIGIN));
            assertEquals(null, header(actual, "Access-Control-Allow-Credentials"));
        }
    }

    @Test
    void aWildcardWithCredentialsIsRefusedAtLoad() {
        assertEquals(List.of("middlewares[0].origins: '*' cannot be combined with credentials: true; list the "
                + "trusted origins"), problems(cors("origins: ['*']", "credentials: true")));
    }

    @Test
    void reportsBadSettingsByKey() {
        List<String> problems = problems(cors("origins: ['*', 'https://app.example.com/', 'app.example.com']",
                "methods: [GET, 'PO ST']", "headers: ['X:Y']", "max-age: 500ms"));

        assertEquals(List.of(
                "middlewares[0].origins: '*' allows every origin, so it must be the only entry",
                "middlewares[0].origins: 'https://app.example.com/' is not an origin: write scheme, host and optional "
                        + "port, such as https://app.example.com, with no path",
                "middlewares[0].origins: 'app.example.com' is not an origin: write scheme, host and optional port, "
                        + "such as https://app.example.com, with no path",
                "middlewares[0].methods: 'PO ST' is not an HTTP token",
                "middlewares[0].headers: 'X:Y' is not an HTTP token",
                "middlewares[0].max-age: must be at least 1s, as it is sent in seconds, but was 500ms"), problems);
        assertTrue(problems(cors()).getFirst().startsWith("middlewares[0].origins: at least one origin is required"));
    }

    private static List<String> problems(String config) {
        return assertThrows(Deployment.InvalidConfigException.class, () -> RunningGateway.start(config).close())
                .problems();
    }

    @Test
    void isPhasedSoItNeverHoldsAThreadWhileTheBackendWorks() throws Exception {
        try (var built = BuiltPlugin.middleware(new CorsProvider(), "origins: [https://app.example]")) {
            assertInstanceOf(PhasedMiddleware.class, built.instance());
        }
    }
}
