package dev.modelgate.plugins.requestid;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.modelgate.kernel.Deployment;
import dev.modelgate.kernel.testing.BuiltPlugin;
import dev.modelgate.kernel.testing.RunningGateway;
import dev.modelgate.spi.PhasedMiddleware;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class RequestIdTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String PREDICT_BODY = "{\"instances\":[[1.0,2.0]]}";
    private static final String GENERATED_ID = "[0-9a-f]{32}";
    private static final String ROUTES = """
            backends:
              echo:
                type: echo
              broken:
                type: echo
                fail: status-500
            routes:
              - model: iris
                backend: echo
              - model: broken
                backend: broken
            """;

    private static RunningGateway gateway;


    @Test
    void generatedIdsAreUniqueAndEveryDigitOfEachIsRandom() {
        java.util.Set<String> ids = new java.util.HashSet<>();
        java.util.List<java.util.Set<Character>> digitsSeen = new java.util.ArrayList<>();
        for (int position = 0; position < 32; position++) {
            digitsSeen.add(new java.util.HashSet<>());
        }
        for (int i = 0; i < 10_000; i++) {
            String id = RequestIdMiddleware.newId();
            assertTrue(id.matches(GENERATED_ID), id);
            ids.add(id);
            for (int position = 0; position < 32; position++) {
                digitsSeen.get(position).add(id.charAt(position));
            }
        }
        assertEquals(10_000, ids.size());
        for (int position = 0; position < 32; position++) {
            assertEquals(16, digitsSeen.get(position).size(), "hex digits seen at position " + position);
        }
    }
    @BeforeAll
    static void start() throws Exception {
        gateway = RunningGateway.start("""
                middlewares:
                  - type: request-id
                """ + ROUTES);
    }

    @AfterAll
    static void stop() throws Exception {
        gateway.close();
    }

    private static HttpResponse<String> predict(RunningGateway gateway, String... headers) {
        return gateway.post("/v1/models/iris:predict", "application/json", PREDICT_BODY, headers);
    }

    /** The id the echo backend saw on the request. */
    private static String idSeenByBackend(HttpResponse<String> response) throws Exception {
        return JSON.readTree(response.body()).get("data").get("request_id").asText();
    }

    private static String responseId(HttpResponse<String> response) {
        return response.headers().firstValue("X-Request-Id").orElseThrow();
    }

    @Test
    void generatesAnIdWhenTheClientSendsNoneAndGivesItToTheBackend() throws Exception {
        HttpResponse<String> response = predict(gateway);

        assertEquals(200, response.statusCode(), response.body());
        assertTrue(responseId(response).matches(GENERATED_ID), responseId(response));
        assertEquals(responseId(response), idSeenByBackend(response));
    }

    @Test
    void generatesADifferentIdForEachRequest() {
        assertNotEquals(responseId(predict(gateway)), responseId(predict(gateway)));
    }

    @Test
    void passesOnAWellFormedClientId() throws Exception {
        String clientId = "client-42_retry.2:ab";

        HttpResponse<String> response = predict(gateway, "X-Request-Id", clientId);

        assertEquals(clientId, responseId(response));
        assertEquals(clientId, idSeenByBackend(response));
    }

    @ParameterizedTest
    @ValueSource(strings = {"two words", "id\"},\"admin\":true", "<script>alert(1)</script>", "a/b"})
    void replacesAClientIdWithCharactersOutsideTheSafeSet(String malformed) throws Exception {
        HttpResponse<String> response = predict(gateway, "X-Request-Id", malformed);

        assertTrue(responseId(response).matches(GENERATED_ID), responseId(response));
        assertEquals(responseId(response), idSeenByBackend(response));
    }

    @Test
    void replacesAClientIdLongerThan128Characters() throws Exception {
        assertEquals("a".repeat(128), responseId(predict(gateway, "X-Request-Id", "a".repeat(128))));

        HttpResponse<String> response = predict(gateway, "X-Request-Id", "a".repeat(500));

        assertTrue(responseId(response).matches(GENERATED_ID), responseId(response));
        assertEquals(responseId(response), idSeenByBackend(response));
    }

    @Test
    void setsTheIdOnErrorResponsesToo() {
        HttpResponse<String> unknownModel = gateway.get("/v1/models/no-such-model", "X-Request-Id", "lost-1");
        HttpResponse<String> backendFailure = gateway.post("/v1/models/broken:predict", "application/json",
                PREDICT_BODY, "X-Request-Id", "broken-1");

        assertEquals(404, unknownModel.statusCode());
        assertEquals("lost-1", responseId(unknownModel));
        assertEquals(502, backendFailure.statusCode());
        assertEquals("broken-1", responseId(backendFailure));
    }

    @Test
    void ignoresClientIdsWhenIncomingIdsAreNotTrusted() throws Exception {
        try (RunningGateway untrusting = RunningGateway.start("""
                middlewares:
                  - type: request-id
                    trust-incoming: false
                """ + ROUTES)) {
            HttpResponse<String> response = predict(untrusting, "X-Request-Id", "client-42");

            assertTrue(responseId(response).matches(GENERATED_ID), responseId(response));
            assertEquals(responseId(response), idSeenByBackend(response));
        }
    }

    @Test
    void usesTheConfiguredHeader() throws Exception {
        try (RunningGateway custom = RunningGateway.start("""
                middlewares:
                  - type: request-id
                    header: X-Correlation-Id
                """ + ROUTES)) {
            HttpResponse<String> passedOn = predict(custom, "X-Correlation-Id", "corr-7");
            HttpResponse<String> generated = predict(custom);

            assertEquals("corr-7", passedOn.headers().firstValue("X-Correlation-Id").orElseThrow());
            assertTrue(generated.headers().firstValue("X-Correlation-Id").orElseThrow().matches(GENERATED_ID));
        }
    }

    @Test
    void isPhasedSoItNeverHoldsAThreadWhileTheBackendWorks() throws Exception {
        try (var built = BuiltPlugin.middleware(new RequestIdProvider(), "trust-incoming: false")) {
            assertInstanceOf(PhasedMiddleware.class, built.instance());
        }
    }

    @Test
    void reportsInvalidSettingsByKey() {
        Deployment.InvalidConfigException invalid = assertThrows(Deployment.InvalidConfigException.class,
                () -> RunningGateway.start("""
                        middlewares:
                          - type: request-id
                            header: "X Request Id"
                            trust-incoming: sometimes
                        """ + ROUTES).close());

        assertEquals(2, invalid.problems().size(), invalid.getMessage());
        assertTrue(invalid.problems().get(0).startsWith("middlewares[0].header: must be an HTTP header name"),
                invalid.getMessage());
        assertTrue(invalid.problems().get(1).startsWith("middlewares[0].trust-incoming: must be true or false"),
                invalid.getMessage());
    }
}
