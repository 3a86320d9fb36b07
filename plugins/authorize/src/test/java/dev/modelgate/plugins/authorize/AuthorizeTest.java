package dev.modelgate.plugins.authorize;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.modelgate.kernel.Deployment;
import dev.modelgate.kernel.testing.BuiltPlugin;
import dev.modelgate.kernel.testing.RawHttp;
import dev.modelgate.kernel.testing.RunningGateway;
import dev.modelgate.spi.PhasedMiddleware;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class AuthorizeTest {

    private static final String PREDICT = "/v1/models/m:predict";
    private static final String BODY = "{\"instances\":[[1]]}";
    private static RunningGateway gateway;

    @BeforeAll
    static void start() throws Exception {
        gateway = RunningGateway.start("""
                middlewares:
                  - type: header-principal
                  - type: authorize
                backends:
                  echo:
                    type: echo
                routes:
                  - model: m
                    backend: echo
                    middlewares:
                      - type: authorize
                        roles: [predict, gold]
                        operations: [predict]
                """);
    }

    @AfterAll
    static void stop() throws Exception {
        gateway.close();
    }

    @Test
    void aRequestWithoutPrincipalIs401() {
        HttpResponse<String> response = gateway.get("/v1/models");

        assertEquals(401, response.statusCode());
        assertTrue(response.body().contains("\"code\":10301"), response.body());
        assertEquals("Bearer", response.headers().firstValue("WWW-Authenticate").orElseThrow());
    }

    @Test
    void anyPrincipalMayListModels() {
        assertEquals(200, gateway.get("/v1/models", "X-Test-Subject", "alice").statusCode());
    }

    @Test
    void predictNeedsEveryRequiredRole() {
        HttpResponse<String> partial = gateway.post(PREDICT, "application/json", BODY,
                "X-Test-Subject", "alice", "X-Test-Roles", "predict, admin");
        HttpResponse<String> full = gateway.post(PREDICT, "application/json", BODY,
                "X-Test-Subject", "bob", "X-Test-Roles", "gold,predict");

        assertEquals(403, partial.statusCode());
        assertTrue(partial.body().contains("\"code\":10302"), partial.body());
        assertTrue(partial.body().contains("missing a required role: gold"), partial.body());
        assertEquals(200, full.statusCode(), full.body());
    }

    @Test
    void operationsTheRuleDoesNotGuardPass() {
        assertEquals(200, gateway.get("/v1/models/m", "X-Test-Subject", "alice").statusCode());
    }

    @Test
    void pathTricksCannotReachAGuardedRouteWithoutItsRole() {
        String[] bypasses = {
            "/v1//models/m:predict", "/v1/models/./m:predict", "/v1/models/x/../m:predict", "/v1/models/%6D:predict",
            "/v1/models%2Fm:predict", "/v1/models/m%3Apredict", "/v1/models/m;x=1:predict", "/models/m:predict;",
        };
        for (String path : bypasses) {
            RawHttp.Reply reply = RawHttp.send(gateway.port(), "POST " + path + " HTTP/1.1\r\nHost: localhost\r\n"
                    + "X-Test-Subject: mallory\r\nContent-Type: application/json\r\nContent-Length: "
                    + BODY.length() + "\r\nConnection: close\r\n\r\n" + BODY, Duration.ofSeconds(10));

            assertTrue(reply.status() == 400 || reply.status() == 403, path + " -> " + reply.text());
        }
    }

    @Test
    void anEmptyOperationListIsAProblemNotAnOpenDoor() {
        Deployment.InvalidConfigException failure = assertThrows(Deployment.InvalidConfigException.class, () ->
                RunningGateway.start("""
                        middlewares:
                          - type: authorize
                            operations: []
                        """ + RunningGateway.ECHO_ROUTE).close());

        assertEquals("middlewares[0].operations: must name at least one operation, or be left out to guard them all",
                failure.problems().getFirst());
    }

    @Test
    void anUnknownOperationIsAConfigurationProblem() {
        Deployment.InvalidConfigException failure = assertThrows(Deployment.InvalidConfigException.class, () ->
                RunningGateway.start("""
                        middlewares:
                          - type: authorize
                            operations: [predict, delete]
                        backends:
                          echo:
                            type: echo
                        routes:
                          - model: m
                            backend: echo
                        """).close());

        assertEquals("middlewares[0].operations: unknown operation 'delete'; known: list-models, get-model, predict, "
                + "server, admin, other",
                failure.problems().getFirst());
    }

    @Test
    void isPhasedSoItNeverHoldsAThreadWhileTheBackendWorks() throws Exception {
        try (var built = BuiltPlugin.middleware(new AuthorizeProvider(), "roles: [predict]")) {
            assertInstanceOf(PhasedMiddleware.class, built.instance());
        }
    }
}
