package dev.modelgate.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.modelgate.kernel.fixtures.EchoBackendProvider;
import dev.modelgate.kernel.fixtures.ProbeFilterProvider;
import dev.modelgate.kernel.testing.RunningGateway;
import java.net.http.HttpResponse;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Routes served without blocking: phased middlewares in front of a backend that forwards asynchronously run on the
 * IO thread, with the contract the around-shaped chain holds middlewares to; one middleware that is not phased, a
 * backend that blocks or a body the proxy path does not take sends the request to a virtual thread as before.
 */
class PhasedPipelineTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String PREDICT = "/v1/models/m:predict";
    private static final String BODY = "{\"instances\":[[1]]}";

    /**
     * A gateway whose one route to an {@code echo} backend has a phased global {@code stamp} and
     * {@code routeMiddlewares}; {@code backendKeys} are more keys of the backend (its {@code async}, {@code fail},
     * {@code filters}).
     */
    private static RunningGateway gateway(String backendKeys, String routeMiddlewares) throws Exception {
        return RunningGateway.start("""
                middlewares:
                  - type: stamp
                    name: global
                    phased: true
                backends:
                  echo:
                    type: echo
                %s
                routes:
                  - model: m
                    backend: echo
                    middlewares:
                %s
                """.formatted(backendKeys.indent(4), routeMiddlewares.indent(6)));
    }

    private static RunningGateway gatewayWith(boolean async, String routeMiddlewares) throws Exception {
        return gateway("async: " + async, routeMiddlewares);
    }

    private static RunningGateway gatewayWithFilters(String filters) throws Exception {
        return gateway("async: true\nfilters:\n" + filters.indent(2), "[]");
    }

    private static JsonNode json(HttpResponse<String> response) throws Exception {
        return JSON.readTree(response.body());
    }

    @Test
    void phasedMiddlewaresInFrontOfAnAsyncBackendRunOnTheIoThread() throws Exception {
        try (RunningGateway gateway = gatewayWith(true, """
                - type: stamp
                  name: first
                  phased: true
                - type: stamp
                  name: second
                  phased: true""")) {
            HttpResponse<String> response = gateway.post(PREDICT, "application/json", BODY);

            assertEquals(200, response.statusCode(), response.body());
            assertEquals("[[1]]", json(response).get("data").get("predictions").toString(), response.body());
            assertEquals("global,first,second", response.headers().firstValue("X-Trail").orElseThrow());
            // The backend answered from another thread: the afters run where the answer came, never on a virtual one.
            String threads = response.headers().firstValue("X-Threads").orElseThrow();
            assertTrue(threads.matches("global:io/[^,v]+,first:io/[^,v]+,second:io/[^,v]+"), threads);
        }
    }

    @Test
    void oneMiddlewareThatIsNotPhasedSendsTheRouteToAVirtualThread() throws Exception {
        try (RunningGateway gateway = gatewayWith(true, """
                - type: stamp
                  name: first
                  phased: true
                - type: stamp
                  name: around""")) {
            HttpResponse<String> response = gateway.post(PREDICT, "application/json", BODY);

            assertEquals(200, response.statusCode(), response.body());
            assertEquals("global,first,around", response.headers().firstValue("X-Trail").orElseThrow());
            assertEquals("global:virtual/virtual,first:virtual/virtual",
                    response.headers().firstValue("X-Threads").orElseThrow());
        }
    }

    @Test
    void aBackendThatBlocksKeepsTheRouteOnAVirtualThread() throws Exception {
        try (RunningGateway gateway = gatewayWith(false, """
                - type: stamp
                  name: first
                  phased: true""")) {
            HttpResponse<String> response = gateway.post(PREDICT, "application/json", BODY);

            assertEquals(200, response.statusCode(), response.body());
            assertEquals("global:virtual/virtual,first:virtual/virtual",
                    response.headers().firstValue("X-Threads").orElseThrow());
        }
    }

    @Test
    void aBodyTheProxyPathDoesNotTakeIsServedAsBefore() throws Exception {
        try (RunningGateway gateway = gatewayWith(true, "[]")) {
            HttpResponse<String> response = gateway.post(PREDICT, "application/msgpack", "not msgpack");

            assertEquals(415, response.statusCode(), response.body());
            assertEquals("global:virtual/virtual", response.headers().firstValue("X-Threads").orElseThrow());
        }
    }

    @Test
    void aPhasedRejectionSkipsTheBackendAndStillPassesTheOuterAfters() throws Exception {
        int calls = EchoBackendProvider.calls();
        try (RunningGateway gateway = gatewayWith(true, """
                - type: stamp
                  name: gate
                  phased: true
                  reject: true""")) {
            HttpResponse<String> response = gateway.post(PREDICT, "application/json", BODY);

            assertEquals(404, response.statusCode(), response.body());
            assertTrue(json(response).get("message").asText().contains("rejected by gate"), response.body());
            assertEquals("global", response.headers().firstValue("X-Trail").orElseThrow());
            assertEquals("global:io/io", response.headers().firstValue("X-Threads").orElseThrow());
            assertEquals(calls, EchoBackendProvider.calls(), "the backend was not called");
        }
    }

    @Test
    void anAsyncBackendsFailureComesBackAsItsCode() throws Exception {
        try (RunningGateway gateway = gateway("async: true\nfail: unavailable", "[]")) {
            HttpResponse<String> response = gateway.post(PREDICT, "application/json", BODY);

            assertEquals(503, response.statusCode(), response.body());
            assertEquals(40003, json(response).get("code").asInt(), response.body());
            assertEquals("global", response.headers().firstValue("X-Trail").orElseThrow());
        }
    }

    @Test
    void anAsyncBackendsBugIsAnInternalErrorNamingIt() throws Exception {
        try (RunningGateway gateway = gateway("async: true\nfail: throw", "[]")) {
            HttpResponse<String> response = gateway.post(PREDICT, "application/json", BODY);

            assertEquals(500, response.statusCode(), response.body());
            assertEquals(90001, json(response).get("code").asInt(), response.body());
            assertTrue(json(response).get("message").asText().contains("backend 'echo' failed"), response.body());
            assertTrue(!response.body().contains("secret internal detail"), response.body());
        }
    }

    @Test
    void phasedFiltersRunAroundTheAsyncCallOnTheIoThread() throws Exception {
        try (RunningGateway gateway = gatewayWithFilters("""
                - type: probe
                  name: phased-outer
                  phased: true
                - type: probe
                  name: phased-inner
                  phased: true""")) {
            HttpResponse<String> response = gateway.post(PREDICT, "application/json", BODY);

            assertEquals(200, response.statusCode(), response.body());
            assertTrue(response.headers().firstValue("X-Threads").orElseThrow().startsWith("global:io/"));
            assertEquals(1, ProbeFilterProvider.calls("phased-inner"));
            assertEquals(1, ProbeFilterProvider.afters("phased-outer"));
            assertEquals(1, ProbeFilterProvider.afters("phased-inner"));
        }
    }

    @Test
    void aPhasedFilterAnsweringItselfSkipsTheBackendAndTheInnerFilters() throws Exception {
        int calls = EchoBackendProvider.calls();
        try (RunningGateway gateway = gatewayWithFilters("""
                - type: probe
                  name: answering-outer
                  phased: true
                - type: probe
                  name: answering
                  phased: true
                  act: answer
                - type: probe
                  name: answering-inner
                  phased: true""")) {
            HttpResponse<String> response = gateway.post(PREDICT, "application/json", BODY);

            assertEquals(418, response.statusCode(), response.body());
            assertEquals(0, ProbeFilterProvider.calls("answering-inner"));
            assertEquals(0, ProbeFilterProvider.afters("answering"), "no after for a before that answered");
            assertEquals(1, ProbeFilterProvider.afters("answering-outer"));
            assertEquals(calls, EchoBackendProvider.calls());
        }
    }

    @Test
    void aPhasedFilterBreakingTheContractIsNamedAndTheOuterAfterStillRuns() throws Exception {
        for (String act : List.of("throw", "nothing", "undeclared")) {
            String name = "broken-" + act;
            try (RunningGateway gateway = gatewayWithFilters("""
                    - type: probe
                      name: %s-outer
                      phased: true
                    - type: probe
                      name: %s
                      phased: true
                      act: %s""".formatted(name, name, act))) {
                HttpResponse<String> response = gateway.post(PREDICT, "application/json", BODY);

                assertEquals(500, response.statusCode(), act + ": " + response.body());
                assertTrue(json(response).get("message").asText().contains("filter 'probe' (backends.echo.filters[1])"),
                        act + ": " + response.body());
                assertTrue(!response.body().contains("secret internal detail"), response.body());
                assertEquals(1, ProbeFilterProvider.afters(name + "-outer"), act);
            }
        }
    }

    @Test
    void aPhasedMiddlewareBreakingTheContractIsNamed() throws Exception {
        try (RunningGateway gateway = gatewayWith(true, """
                - type: stamp
                  name: outer
                  phased: true
                - type: phased-misbehave""")) {
            HttpResponse<String> response = gateway.post(PREDICT, "application/json", BODY);

            assertEquals(500, response.statusCode(), response.body());
            assertEquals(90002, json(response).get("code").asInt(), response.body());
            assertTrue(json(response).get("message").asText()
                    .contains("middleware 'phased-misbehave' (routes[0].middlewares[1]) returned no response"),
                    response.body());
            String threads = response.headers().firstValue("X-Threads").orElseThrow();
            assertTrue(threads.matches("global:io/[^,v]+,outer:io/[^,v]+"), "the afters before it run: " + threads);
        }
    }
}
