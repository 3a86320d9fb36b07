package dev.modelgate.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.modelgate.kernel.fixtures.ProbeFilterProvider;
import dev.modelgate.kernel.testing.RunningGateway;
import java.net.http.HttpResponse;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class BackendFilterTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String BODY = "{\"instances\":[[1]]}";

    private static RunningGateway gatewayWithFilters(String filters) throws Exception {
        return RunningGateway.start("""
                backends:
                  echo:
                    type: echo
                    filters:
                %s
                routes:
                  - model: a
                    backend: echo
                  - model: b
                    versions: [v1, v2]
                    backend: echo
                """.formatted(filters.indent(6)));
    }

    @Test
    void everyRouteToABackendSharesItsFilters() throws Exception {
        try (RunningGateway gateway = gatewayWithFilters("""
                - type: probe
                  name: shared""")) {
            gateway.post("/v1/models/a:predict", "application/json", BODY);
            gateway.post("/v1/models/b:predict", "application/json", BODY);
            gateway.post("/v2/models/b:predict", "application/json", BODY);

            assertEquals(3, ProbeFilterProvider.calls("shared"));
        }
    }

    @Test
    void aFilterCanAnswerInsteadOfTheBackend() throws Exception {
        try (RunningGateway gateway = gatewayWithFilters("""
                - type: probe
                  name: answering
                  act: answer""")) {
            HttpResponse<String> response = gateway.post("/v1/models/a:predict", "application/json", BODY);

            assertEquals(418, response.statusCode());
            assertEquals("probe", response.body());
        }
    }

    @Test
    void completionListenersRunOnceTheAnswerIsWritten() throws Exception {
        try (RunningGateway gateway = gatewayWithFilters("""
                - type: probe
                  name: completing""")) {
            var completed = ProbeFilterProvider.completed("completing", 2);
            gateway.post("/v1/models/a:predict", "application/json", BODY);
            gateway.post("/v1/models/b:predict", "application/json", BODY);

            assertTrue(completed.await(10, TimeUnit.SECONDS));
        }
    }

    @Test
    void aFilterThatBreaksTheContractIsNamedAndNeverLeaksItsDetail() throws Exception {
        try (RunningGateway gateway = gatewayWithFilters("""
                - type: probe
                  name: twice
                  act: twice
                - type: probe
                  name: after""")) {
            HttpResponse<String> response = gateway.post("/v1/models/a:predict", "application/json", BODY);

            assertEquals(500, response.statusCode());
            assertEquals(90002, JSON.readTree(response.body()).get("code").asInt());
            assertTrue(response.body().contains("filter 'probe' (backends.echo.filters[0])"), response.body());
        }
        try (RunningGateway gateway = gatewayWithFilters("""
                - type: probe
                  name: nothing
                  act: nothing""")) {
            assertEquals(90002, JSON.readTree(gateway.post("/v1/models/a:predict", "application/json", BODY).body())
                    .get("code").asInt());
        }
        try (RunningGateway gateway = gatewayWithFilters("""
                - type: probe
                  name: undeclared
                  act: undeclared""")) {
            HttpResponse<String> response = gateway.post("/v1/models/a:predict", "application/json", BODY);

            assertEquals(90002, JSON.readTree(response.body()).get("code").asInt(), response.body());
            assertTrue(response.body().contains("filter 'probe' (backends.echo.filters[0]) failed with code 39999, "
                    + "which no plugin declares"), response.body());
        }
        try (RunningGateway gateway = gatewayWithFilters("""
                - type: probe
                  name: throwing
                  act: throw""")) {
            HttpResponse<String> response = gateway.post("/v1/models/a:predict", "application/json", BODY);

            assertEquals(90001, JSON.readTree(response.body()).get("code").asInt());
            assertFalse(response.body().contains("secret"));
        }
    }

    @Test
    void anUnknownFilterTypeIsAConfigurationProblemNamingTheKnownOnes() {
        Deployment.InvalidConfigException invalid = org.junit.jupiter.api.Assertions.assertThrows(
                Deployment.InvalidConfigException.class, () -> gatewayWithFilters("- type: nope").close());

        assertEquals("backends.echo.filters[0].type: unknown filter type 'nope'; known types: probe",
                invalid.problems().getFirst());
    }
}
