package dev.modelgate.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.modelgate.kernel.fixtures.EchoBackendProvider;
import dev.modelgate.kernel.testing.RunningGateway;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class PipelineTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String PREDICT = "/v1/models/m:predict";
    private static final String BODY = "{\"instances\":[[1]]}";

    private static RunningGateway gatewayWith(String routeMiddlewares) throws Exception {
        return RunningGateway.start("""
                middlewares:
                  - type: stamp
                    name: global
                backends:
                  echo:
                    type: echo
                routes:
                  - model: m
                    backend: echo
                    middlewares:
                %s
                """.formatted(routeMiddlewares.indent(6)));
    }

    private static JsonNode json(HttpResponse<String> response) throws Exception {
        return JSON.readTree(response.body());
    }

    @Test
    void middlewaresRunInTheConfiguredOrderGlobalOnesFirst() throws Exception {
        try (RunningGateway gateway = gatewayWith("""
                - type: stamp
                  name: first
                - type: stamp
                  name: second""")) {
            HttpResponse<String> response = gateway.post(PREDICT, "application/json", BODY);

            assertEquals(200, response.statusCode());
            assertEquals("global,first,second", response.headers().firstValue("X-Trail").orElseThrow());
        }
    }

    @Test
    void aMiddlewareCanShortCircuitWithoutReachingTheBackend() throws Exception {
        try (RunningGateway gateway = gatewayWith("""
                - type: stamp
                  name: gate
                  reject: true
                - type: misbehave
                  how: throw""")) {
            HttpResponse<String> response = gateway.post(PREDICT, "application/json", BODY);

            assertEquals(404, response.statusCode());
            assertTrue(json(response).get("message").asText().contains("rejected by gate"));
            assertEquals("global", response.headers().firstValue("X-Trail").orElseThrow(),
                    "the outer middleware still sees the rejection on its way back");
        }
    }

    @Test
    void aMiddlewareReturningNothingIsNamedInTheError() throws Exception {
        try (RunningGateway gateway = gatewayWith("""
                - type: misbehave
                  how: "null\"""")) {
            HttpResponse<String> response = gateway.post(PREDICT, "application/json", BODY);

            assertEquals(500, response.statusCode());
            assertEquals(90002, json(response).get("code").asInt());
            assertTrue(json(response).get("message").asText()
                    .contains("middleware 'misbehave' (routes[0].middlewares[0]) returned no response"),
                    response.body());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"undeclared-code", "reject-undeclared"})
    void aMiddlewareAnsweringWithACodeNoPluginDeclaresBreaksTheContract(String how) throws Exception {
        try (RunningGateway gateway = gatewayWith("- type: misbehave\n  how: " + how)) {
            HttpResponse<String> response = gateway.post(PREDICT, "application/json", BODY);

            assertEquals(500, response.statusCode(), response.body());
            assertEquals(90002, json(response).get("code").asInt());
            assertTrue(json(response).get("message").asText().contains("middleware 'misbehave' "
                    + "(routes[0].middlewares[0]) answered with code 29999, which no plugin declares"),
                    response.body());
        }
    }

    @Test
    void aMiddlewareCallingProceedTwiceIsNamedAndTheBackendRunsOnce() throws Exception {
        try (RunningGateway gateway = gatewayWith("""
                - type: misbehave
                  how: proceed-twice""")) {
            HttpResponse<String> response = gateway.post(PREDICT, "application/json", BODY);

            assertEquals(500, response.statusCode());
            assertEquals(90002, json(response).get("code").asInt());
            assertTrue(json(response).get("message").asText().contains("called proceed() 2 times"), response.body());
        }
    }

    @Test
    void aMiddlewareWhoseProviderRepeatsProceedMayRunTheRestAgain() throws Exception {
        int before = EchoBackendProvider.calls();
        try (RunningGateway gateway = gatewayWith("""
                - type: repeat
                  times: 3""")) {
            HttpResponse<String> response = gateway.post(PREDICT, "application/json", BODY);

            assertEquals(200, response.statusCode(), response.body());
            assertEquals(before + 3, EchoBackendProvider.calls());
        }
    }

    @Test
    void aThrowingMiddlewareIsNamedAndItsMessageStaysInTheLog() throws Exception {
        try (RunningGateway gateway = gatewayWith("""
                - type: misbehave
                  how: throw""")) {
            HttpResponse<String> response = gateway.post(PREDICT, "application/json", BODY);

            assertEquals(500, response.statusCode());
            assertEquals(90001, json(response).get("code").asInt());
            assertTrue(json(response).get("message").asText().contains("middleware 'misbehave'"), response.body());
            assertFalse(response.body().contains("hunter2"), "the exception's message is not for clients");
            assertFalse(response.body().contains("IllegalStateException"));
        }
    }

    @Test
    void aStackOverflowInAMiddlewareIsStillAnEnvelope() throws Exception {
        try (RunningGateway gateway = gatewayWith("""
                - type: misbehave
                  how: stack-overflow""")) {
            HttpResponse<String> response = gateway.post(PREDICT, "application/json", BODY);

            assertEquals(500, response.statusCode());
            assertEquals(90001, json(response).get("code").asInt());
        }
    }

    @Test
    void backendFailuresMapToTheirCodes() throws Exception {
        String[][] cases = {
            {"unavailable", "503", "40003"},
            {"timeout", "504", "40004"},
            {"status-500", "502", "40005"},
            {"status-400", "400", "40006"},
            {"not-json", "502", "40007"},
            {"throw", "500", "90001"},
        };
        for (String[] failure : cases) {
            try (RunningGateway gateway = RunningGateway.start("""
                    backends:
                      b:
                        type: echo
                        fail: %s
                    routes:
                      - model: m
                        backend: b
                    """.formatted(failure[0]))) {
                HttpResponse<String> response = gateway.post(PREDICT, "application/json", BODY);

                assertEquals(Integer.parseInt(failure[1]), response.statusCode(), failure[0] + ": " + response.body());
                assertEquals(Integer.parseInt(failure[2]), json(response).get("code").asInt(), failure[0]);
                assertFalse(response.body().contains("secret internal detail"), failure[0]);
            }
        }
    }

    @Test
    void requestsMatchingNoRoutePassTheGlobalMiddlewares() throws Exception {
        try (RunningGateway gateway = gatewayWith("""
                - type: stamp
                  name: route-only""")) {
            HttpResponse<String> response = gateway.get("/v1/models/unknown");

            assertEquals(404, response.statusCode());
            assertEquals("global", response.headers().firstValue("X-Trail").orElseThrow());
        }
    }
}
