package dev.modelgate.plugins.apikey;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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

class ApiKeyTest {

    private static final String MODEL = "/v1/models/m";
    /** printf %s scorer-key-1 | sha256sum */
    private static final String SCORER_KEY = "scorer-key-1";
    private static final String SCORER_SHA256 = "c869e2fe9759e3581c7b68e0ef05ae689286240a61b4e3203a855d65dba4045c";
    /** printf %s auditor-key-2 | sha256sum */
    private static final String AUDITOR_KEY = "auditor-key-2";
    private static final String AUDITOR_SHA256 = "D1885C58E35FA794F17EB0A3639DC7B1461917FE6EBB7E69DD0583B816A09094";
    private static final String KEYS = """
                keys:
                  - name: batch-scorer
                    sha256: %s
                    roles: [predict]
                  - name: auditor
                    sha256: %s
                    roles: [read, audit]
            """.formatted(SCORER_SHA256, AUDITOR_SHA256);

    private static RunningGateway gateway;

    @BeforeAll
    static void start() throws Exception {
        gateway = RunningGateway.start(config(""));
    }

    @AfterAll
    static void stop() throws Exception {
        gateway.close();
    }

    /** api-key with the two keys and {@code settings}, then principal-echo to show what it set. */
    private static String config(String settings) {
        return "middlewares:\n  - type: api-key\n" + settings + KEYS + "  - type: principal-echo\n" + RunningGateway.ECHO_ROUTE;
    }

    private static String header(HttpResponse<String> response, String name) {
        return response.headers().firstValue(name).orElse(null);
    }

    private static void assertRejected(HttpResponse<String> response, int status, int code) {
        assertEquals(status, response.statusCode(), response.body());
        assertTrue(response.body().contains("\"code\":" + code), response.body());
        assertEquals(null, header(response, "X-Principal-Subject"));
    }

    @Test
    void aKnownKeyAuthenticatesAsItsEntrysNameWithItsRoles() {
        HttpResponse<String> response = gateway.get(MODEL, "X-API-Key", SCORER_KEY);

        assertEquals(200, response.statusCode(), response.body());
        assertEquals("batch-scorer", header(response, "X-Principal-Subject"));
        assertEquals("predict", header(response, "X-Principal-Roles"));
        assertEquals("api-key", header(response, "X-Principal-Scheme"));
    }

    @Test
    void eachKeyAuthenticatesAsItsOwnEntryWhateverTheCaseOfItsConfiguredHash() {
        HttpResponse<String> response = gateway.get(MODEL, "X-API-Key", AUDITOR_KEY);

        assertEquals(200, response.statusCode(), response.body());
        assertEquals("auditor", header(response, "X-Principal-Subject"));
        assertEquals("audit,read", header(response, "X-Principal-Roles"));
    }

    @Test
    void aRequestWithoutKeyIs401WithAnApiKeyChallenge() {
        HttpResponse<String> response = gateway.get(MODEL);

        assertRejected(response, 401, 10201);
        assertEquals("ApiKey", header(response, "WWW-Authenticate"));
    }

    @Test
    void aBlankKeyCountsAsNoKey() {
        assertRejected(gateway.get(MODEL, "X-API-Key", " "), 401, 10201);
    }

    @Test
    void anUnknownKeyIs401AndTheResponseDoesNotEchoIt() {
        HttpResponse<String> response = gateway.get(MODEL, "X-API-Key", "guessed-key-0000");

        assertRejected(response, 401, 10202);
        assertEquals("ApiKey", header(response, "WWW-Authenticate"));
        assertFalse(response.body().contains("guessed-key-0000"), response.body());
        assertFalse(response.headers().map().toString().contains("guessed-key-0000"));
    }

    @Test
    void keysAreComparedExactly() {
        assertRejected(gateway.get(MODEL, "X-API-Key", SCORER_KEY.toUpperCase(Locale.ROOT)), 401, 10202);
        assertRejected(gateway.get(MODEL, "X-API-Key", SCORER_KEY + "x"), 401, 10202);
    }

    @Test
    void theHeaderSentTwiceIs400EvenWhenBothKeysAreKnown() {
        HttpResponse<String> response = RunningGateway.send(HttpRequest.newBuilder(gateway.uri(MODEL)).GET(),
                "X-API-Key", SCORER_KEY, "X-API-Key", AUDITOR_KEY);

        assertRejected(response, 400, 10203);
    }

    @Test
    void anOptionalKeyLetsRequestsWithoutOneOnUnauthenticatedButStillRejectsUnknownKeys() throws Exception {
        try (RunningGateway optional = RunningGateway.start(config("    optional: true\n"))) {
            HttpResponse<String> anonymous = optional.get(MODEL);
            HttpResponse<String> known = optional.get(MODEL, "X-API-Key", SCORER_KEY);

            assertEquals(200, anonymous.statusCode(), anonymous.body());
            assertEquals(null, header(anonymous, "X-Principal-Subject"));
            assertEquals("batch-scorer", header(known, "X-Principal-Subject"));
            assertRejected(optional.get(MODEL, "X-API-Key", "guessed-key-0000"), 401, 10202);
        }
    }

    @Test
    void aPrincipalSetByAnEarlierMiddlewareNeedsNoKey() throws Exception {
        try (RunningGateway either = RunningGateway.start("middlewares:\n  - type: header-principal\n"
                + config("").substring("middlewares:\n".length()))) {
            HttpResponse<String> response = either.get(MODEL, "X-Test-Subject", "alice", "X-Test-Roles", "predict");

            assertEquals(200, response.statusCode(), response.body());
            assertEquals("alice", header(response, "X-Principal-Subject"));
            assertEquals("test", header(response, "X-Principal-Scheme"));
            assertRejected(either.get(MODEL), 401, 10201);
        }
    }

    @Test
    void readsTheKeyFromTheConfiguredHeader() throws Exception {
        try (RunningGateway custom = RunningGateway.start(config("    header: X-Model-Key\n"))) {
            assertEquals("batch-scorer", header(custom.get(MODEL, "X-Model-Key", SCORER_KEY), "X-Principal-Subject"));
            assertRejected(custom.get(MODEL, "X-API-Key", SCORER_KEY), 401, 10201);
        }
    }

    @Test
    void reportsBadKeysByKeyPathWithoutEchoingTheValue() {
        List<String> problems = problems("""
                middlewares:
                  - type: api-key
                    keys:
                      - name: batch-scorer
                        sha256: plain-secret-pasted-by-mistake
                      - name: batch-scorer
                        sha256: %s
                      - sha256: %s
                """.formatted(SCORER_SHA256, SCORER_SHA256.toUpperCase(Locale.ROOT)) + RunningGateway.ECHO_ROUTE);

        assertEquals(List.of(
                "middlewares[0].keys[0].sha256: must be 64 hexadecimal digits, the SHA-256 of the key, but was 30 "
                        + "characters long; compute it with: printf %s \"$KEY\" | sha256sum",
                "middlewares[0].keys[1].name: duplicate name 'batch-scorer', also used at middlewares[0].keys[0]",
                "middlewares[0].keys[2].name: is required",
                "middlewares[0].keys[2].sha256: same key as middlewares[0].keys[1]"), problems);
    }

    @Test
    void requiresAtLeastOneKeyAndAHeaderName() {
        List<String> problems = problems("""
                middlewares:
                  - type: api-key
                    header: "X API Key"
                """ + RunningGateway.ECHO_ROUTE);

        assertEquals(List.of(
                "middlewares[0].header: must be an HTTP header name, but was 'X API Key'",
                "middlewares[0].keys: at least one key is required"), problems);
    }

    private static List<String> problems(String config) {
        return assertThrows(Deployment.InvalidConfigException.class, () -> RunningGateway.start(config).close())
                .problems();
    }

    @Test
    void isPhasedSoItNeverHoldsAThreadWhileTheBackendWorks() throws Exception {
        try (var built = BuiltPlugin.middleware(new ApiKeyProvider(),
                "keys: [{name: batch-scorer, sha256: " + SCORER_SHA256 + "}]")) {
            assertInstanceOf(PhasedMiddleware.class, built.instance());
        }
    }
}
