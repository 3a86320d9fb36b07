package dev.modelgate.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.modelgate.kernel.testing.RunningGateway;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class AdminEndpointsTest {

    private static final String TOKEN = "admin-token-for-tests-0123456789abcdef";

    private static HttpResponse<String> admin(RunningGateway gateway, String path, String... headers) {
        return RunningGateway.send(HttpRequest.newBuilder(gateway.adminUri(path)), headers);
    }

    @Test
    void probesStayOpenWhateverProtectsTheRest() throws Exception {
        try (RunningGateway gateway = RunningGateway.start("admin:\n  token: " + TOKEN + "\n" + RunningGateway.ECHO_ROUTE)) {
            for (String probe : List.of("/healthz", "/readyz", "/metrics")) {
                assertEquals(200, admin(gateway, probe).statusCode(), probe);
            }
        }
    }

    @Test
    void guardedEndpointsNeedTheAdminToken() throws Exception {
        try (RunningGateway gateway = RunningGateway.start("admin:\n  token: " + TOKEN + "\n" + RunningGateway.ECHO_ROUTE)) {
            HttpResponse<String> none = admin(gateway, "/plugins");
            HttpResponse<String> wrong = admin(gateway, "/plugins", "Authorization", "Bearer " + TOKEN + "x");
            HttpResponse<String> right = admin(gateway, "/plugins", "Authorization", "Bearer " + TOKEN);

            assertEquals(401, none.statusCode());
            assertTrue(none.body().contains("\"code\":10001"), none.body());
            assertTrue(none.headers().firstValue("WWW-Authenticate").orElseThrow().startsWith("Bearer"));
            assertEquals(401, wrong.statusCode());
            assertEquals(200, right.statusCode(), right.body());
            assertTrue(right.body().contains("{\"kind\":\"backend\",\"type\":\"echo\",\"origin\":\"built in\"}"),
                    right.body());
        }
    }

    @Test
    void theAdminTokenIsAcceptedAsABasicPasswordForToolsThatTakeOnlyAUrl() throws Exception {
        try (RunningGateway gateway = RunningGateway.start("admin:\n  token: " + TOKEN + "\n" + RunningGateway.ECHO_ROUTE)) {
            HttpResponse<String> basic = admin(gateway, "/plugins", "Authorization", "Basic " + base64("go:" + TOKEN));
            HttpResponse<String> wrong = admin(gateway, "/plugins", "Authorization", "Basic " + base64("go:x" + TOKEN));
            HttpResponse<String> noPassword = admin(gateway, "/plugins", "Authorization", "Basic " + base64(TOKEN));
            HttpResponse<String> notBase64 = admin(gateway, "/plugins", "Authorization", "Basic !" + TOKEN);

            assertEquals(200, basic.statusCode(), basic.body());
            assertEquals(401, wrong.statusCode());
            assertEquals(401, noPassword.statusCode());
            assertEquals(401, notBase64.statusCode());
        }
    }

    private static String base64(String text) {
        return java.util.Base64.getEncoder().encodeToString(text.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    @Test
    void guardedEndpointsCanBeOpenedByTheAdminPipelineInstead() throws Exception {
        try (RunningGateway gateway = RunningGateway.start("""
                admin:
                  middlewares:
                    - type: header-principal
                    - type: stamp
                      name: admin-pipeline
                """ + RunningGateway.ECHO_ROUTE)) {
            HttpResponse<String> response = admin(gateway, "/plugins", "X-Test-Subject", "ops");

            assertEquals(200, response.statusCode(), response.body());
            assertEquals("admin-pipeline", response.headers().firstValue("X-Trail").orElseThrow());
        }
    }

    @Test
    void withNeitherTokenNorPipelineGuardedEndpointsAreDisabled() throws Exception {
        try (RunningGateway gateway = RunningGateway.start(RunningGateway.ECHO_ROUTE)) {
            HttpResponse<String> response = admin(gateway, "/plugins", "Authorization", "Bearer anything");

            assertEquals(403, response.statusCode());
            assertTrue(response.body().contains("\"code\":10002"), response.body());
        }
    }

    @Test
    void readinessNamesTheBackendsThatCannotServe() throws Exception {
        try (RunningGateway gateway = RunningGateway.start("""
                backends:
                  up:
                    type: echo
                  down:
                    type: echo
                    ready: false
                routes:
                  - model: m
                    backend: up
                  - model: n
                    backend: down
                """)) {
            HttpResponse<String> response = admin(gateway, "/readyz");

            assertEquals(503, response.statusCode());
            assertEquals("{\"status\":\"NOT_READY\",\"unready_backends\":[\"down\"]}", response.body());
        }
    }

    @Test
    void aShortAdminTokenIsRefusedAtStartup() {
        var failure = org.junit.jupiter.api.Assertions.assertThrows(Deployment.InvalidConfigException.class,
                () -> RunningGateway.start("admin:\n  token: short\n" + RunningGateway.ECHO_ROUTE, null, Map.of()).close());

        assertEquals(List.of("admin.token: must be at least 32 characters, but has 5"), failure.problems());
    }

    @Test
    void theAdminListenerAnswersOnlyGetAndKnownPaths() throws Exception {
        try (RunningGateway gateway = RunningGateway.start(RunningGateway.ECHO_ROUTE)) {
            HttpResponse<String> post = RunningGateway.send(HttpRequest.newBuilder(gateway.adminUri("/healthz"))
                    .POST(HttpRequest.BodyPublishers.noBody()));

            assertEquals(405, post.statusCode());
            assertEquals(404, admin(gateway, "/config/../plugins").statusCode());
        }
    }
}
