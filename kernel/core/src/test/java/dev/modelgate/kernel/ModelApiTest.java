package dev.modelgate.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.modelgate.kernel.testing.RunningGateway;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class ModelApiTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String PREDICT_BODY = "{\"instances\":[[1.0,2.0],[3.0,4.0]]}";
    private static RunningGateway gateway;

    @BeforeAll
    static void start() throws Exception {
        gateway = RunningGateway.start("""
                server:
                  max-body-size: 1KB
                backends:
                  old:
                    type: echo
                    tag: old
                  new:
                    type: echo
                    tag: new
                  broken:
                    type: echo
                    fail: status-500
                routes:
                  - model: iris
                    version: v1
                    backend: old
                  - model: iris
                    version: v2
                    backend: new
                  - model: broken
                    versions: [v1, v2]
                    backend: broken
                  - model: capped
                    backend: old
                    timeout: 2s
                    idempotent: true
                """);
    }

    @AfterAll
    static void stop() throws Exception {
        gateway.close();
    }

    private static JsonNode json(HttpResponse<String> response) throws Exception {
        return JSON.readTree(response.body());
    }

    private static void assertError(HttpResponse<String> response, int status, int code) throws Exception {
        assertEquals(status, response.statusCode(), response.body());
        JsonNode body = json(response);
        assertEquals(code, body.get("code").asInt(), response.body());
        assertFalse(body.has("data"), "errors carry no data");
        assertTrue(response.headers().firstValue("Content-Type").orElseThrow().startsWith("application/json"));
        assertFalse(response.body().contains("Exception"), "no stack trace or exception name reaches the client");
    }

    @Test
    void predictWrapsTheBackendAnswerInTheEnvelope() throws Exception {
        HttpResponse<String> response = gateway.post("/v1/models/iris:predict", "application/json", PREDICT_BODY);

        assertEquals(200, response.statusCode());
        JsonNode body = json(response);
        assertEquals(0, body.get("code").asInt());
        assertEquals("success", body.get("message").asText());
        assertEquals(JSON.readTree("[[1.0,2.0],[3.0,4.0]]"), body.get("data").get("predictions"));
        assertEquals("old", body.get("data").get("tag").asText());
    }

    @Test
    void columnarInputsAnswerOutputs() throws Exception {
        HttpResponse<String> response = gateway.post("/v1/models/iris:predict", "application/json",
                "{\"inputs\":{\"x\":[[1.0]]}}");

        assertEquals(200, response.statusCode());
        assertEquals(JSON.readTree("{\"x\":[[1.0]]}"), json(response).get("data").get("outputs"));
    }

    @Test
    void eachApiVersionRoutesToItsOwnBackend() throws Exception {
        String byPath = json(gateway.post("/v2/models/iris:predict", "application/json", PREDICT_BODY))
                .get("data").get("tag").asText();
        String byAcceptHeader = json(gateway.post("/models/iris:predict", "application/json", PREDICT_BODY,
                "Accept", "application/vnd.modelgate.v2+json")).get("data").get("tag").asText();
        String unversioned = json(gateway.post("/models/iris:predict", "application/json", PREDICT_BODY))
                .get("data").get("tag").asText();

        assertEquals("new", byPath);
        assertEquals("new", byAcceptHeader);
        assertEquals("old", unversioned);
    }

    @Test
    void modelsAreListedWithTheirVersions() throws Exception {
        HttpResponse<String> response = gateway.get("/v1/models");

        assertEquals(200, response.statusCode());
        assertEquals(JSON.readTree("""
                {"models":[{"name":"iris","versions":["v1","v2"]},{"name":"broken","versions":["v1","v2"]},
                {"name":"capped","versions":["v1"]}]}"""),
                json(response).get("data"));
    }

    @Test
    void aModelDescribesItsStatusAndMetadata() throws Exception {
        JsonNode data = json(gateway.get("/v1/models/iris")).get("data");

        assertEquals("iris", data.get("name").asText());
        assertEquals("v1", data.get("version").asText());
        assertEquals("AVAILABLE", data.get("status").asText());
        assertEquals("echo", data.get("metadata").get("platform").asText());
        assertEquals("old", data.get("metadata").get("versions").get(0).asText());
    }

    @Test
    void theV2DescriptionOfAModelAnswersToTheVendorMediaTypeSinceKServeOwnsItsPath() throws Exception {
        JsonNode data = json(gateway.get("/v2/models/iris", "Accept", "application/vnd.modelgate.v2+json"))
                .get("data");

        assertEquals("v2", data.get("version").asText());
        assertEquals("new", data.get("metadata").get("versions").get(0).asText());
    }

    @Test
    void anUnknownModelIs404WithItsCode() throws Exception {
        assertError(gateway.post("/v1/models/nope:predict", "application/json", PREDICT_BODY), 404, 40001);
        assertError(gateway.get("/v1/models/nope"), 404, 40001);
    }

    @Test
    void anApiVersionNoRouteServesIsRejected() throws Exception {
        assertError(gateway.get("/v7/models"), 406, 20008);
    }

    @Test
    void aWrongMethodIs405AndSaysWhichIsAllowed() throws Exception {
        HttpResponse<String> response = gateway.get("/v1/models/iris:predict");

        assertError(response, 405, 20005);
        assertEquals("POST", response.headers().firstValue("Allow").orElseThrow());
    }

    @Test
    void anUnknownPathIs404WithItsCode() throws Exception {
        assertError(gateway.get("/admin/secrets"), 404, 20004);
    }

    @Test
    void malformedJsonIs400WithItsPosition() throws Exception {
        HttpResponse<String> response = gateway.post("/v1/models/iris:predict", "application/json",
                "{\"instances\": [1, 2");

        assertError(response, 400, 20001);
        assertTrue(json(response).get("message").asText().contains("line 1"), response.body());
    }

    @Test
    void trailingGarbageAfterTheJsonIsMalformed() throws Exception {
        assertError(gateway.post("/v1/models/iris:predict", "application/json", "{\"instances\":[[1]]} xx"),
                400, 20001);
    }

    @Test
    void anEmptyBodyIsMalformed() throws Exception {
        assertError(gateway.post("/v1/models/iris:predict", "application/json", ""), 400, 20001);
    }

    @Test
    void aNonJsonContentTypeIs415() throws Exception {
        assertError(gateway.post("/v1/models/iris:predict", "text/plain", PREDICT_BODY), 415, 20002);
    }

    @Test
    void wrongShapesOfPredictRequestsAre400() throws Exception {
        for (String body : new String[] {"[1,2]", "{}", "{\"instances\":{}}", "{\"instances\":[]}",
                "{\"instances\":[[1]],\"inputs\":[[1]]}", "\"text\"", "42"}) {
            assertError(gateway.post("/v1/models/iris:predict", "application/json", body), 400, 20006);
        }
    }

    @Test
    void aBodyOverTheLimitIs413() throws Exception {
        String huge = "{\"instances\":[" + "[1.0],".repeat(400) + "[1.0]]}";

        assertError(gateway.post("/v1/models/iris:predict", "application/json", huge), 413, 20003);
    }

    @Test
    void aChunkedBodyOverTheLimitIs413() throws Exception {
        byte[] huge = ("{\"instances\":[" + "[1.0],".repeat(400) + "[1.0]]}").getBytes();
        HttpRequest.Builder request = HttpRequest.newBuilder(gateway.uri("/v1/models/iris:predict"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new java.io.ByteArrayInputStream(huge)));

        assertError(RunningGateway.send(request), 413, 20003);
    }

    @Test
    void aBackend5xxIs502WithTheBackendsMessage() throws Exception {
        HttpResponse<String> response = gateway.post("/v1/models/broken:predict", "application/json", PREDICT_BODY);

        assertError(response, 502, 40005);
        assertTrue(json(response).get("message").asText().contains("model crashed"), response.body());
    }

    @Test
    void aClientDeadlineShortensTheRoutesButNeverLengthensIt() throws Exception {
        JsonNode shorter = json(gateway.post("/v1/models/capped:predict", "application/json", PREDICT_BODY,
                "X-Request-Timeout", "500ms")).get("data");
        JsonNode longer = json(gateway.post("/v1/models/capped:predict", "application/json", PREDICT_BODY,
                "X-Request-Timeout", "60s")).get("data");
        JsonNode unbounded = json(gateway.post("/v1/models/iris:predict", "application/json", PREDICT_BODY))
                .get("data");

        assertTrue(shorter.get("remaining_ms").asLong() <= 500, shorter.toString());
        assertTrue(longer.get("remaining_ms").asLong() <= 2000, longer.toString());
        assertFalse(unbounded.has("remaining_ms"), unbounded.toString());
    }

    @Test
    void aDeadlineThatHasPassedNeverReachesTheBackend() throws Exception {
        assertError(gateway.post("/v1/models/iris:predict", "application/json", PREDICT_BODY,
                "X-Request-Timeout", "0"), 504, 40008);
    }

    @Test
    void anUnreadableClientDeadlineIs400() throws Exception {
        assertError(gateway.post("/v1/models/iris:predict", "application/json", PREDICT_BODY,
                "X-Request-Timeout", "soon"), 400, 20012);
    }

    @Test
    void routesMarkedIdempotentSaySoToBackends() throws Exception {
        assertTrue(json(gateway.post("/v1/models/capped:predict", "application/json", PREDICT_BODY))
                .get("data").get("idempotent").asBoolean());
        assertFalse(json(gateway.post("/v1/models/iris:predict", "application/json", PREDICT_BODY))
                .get("data").get("idempotent").asBoolean());
    }

    @Test
    void healthReadinessAndMetricsAnswerOnTheAdminListener() throws Exception {
        gateway.post("/v1/models/iris:predict", "application/json", PREDICT_BODY);

        assertEquals(200, gateway.adminGet("/healthz").statusCode());
        assertEquals(200, gateway.adminGet("/readyz").statusCode());
        // Other tests share this gateway: at least this request is counted.
        assertTrue(gateway.metric("modelgate_requests_total{backend=\"old\",code=\"0\",protocol=\"http\","
                + "route=\"iris:v1\",status=\"200\"}") >= 1);
        assertTrue(gateway.metric("modelgate_request_duration_seconds_count{backend=\"old\",protocol=\"http\","
                + "route=\"iris:v1\"}") >= 1);
    }

    @Test
    void theApiIsNotServedOnTheAdminListenerNorTheAdminOnTheApi() throws Exception {
        assertEquals(404, gateway.get("/metrics").statusCode());
        assertEquals(404, RunningGateway.send(HttpRequest.newBuilder(gateway.adminUri("/v1/models"))).statusCode());
    }
}
