package dev.modelgate.plugins.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.modelgate.kernel.testing.RunningGateway;
import java.net.ServerSocket;
import java.net.http.HttpResponse;
import java.util.Collections;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * REST clients of KServe v2 and TF Serving JSON reach real gRPC model servers through a real gateway: a KServe v2
 * gRPC server ({@code double}: y = 2x) and a ModelService one ({@code half}: y = x / 2 + 2), with the right numbers,
 * the server's metadata, and the server's statuses as the gateway's codes.
 */
class GrpcBackendTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static ModelServer server;
    private static RunningGateway gateway;
    private static int closedPort;

    @BeforeAll
    static void start() throws Exception {
        server = ModelServer.start();
        try (ServerSocket socket = new ServerSocket(0)) {
            closedPort = socket.getLocalPort();
        }
        gateway = RunningGateway.start("""
                fronts:
                  tf-serving:
                    prefix: /tfserving
                backends:
                %3$s
                  impatient:
                    type: grpc
                    protocol: kserve-v2
                    url: %1$s
                    request-timeout: 300ms
                    model-name: slow
                  renamed:
                    type: grpc
                    protocol: kserve-v2
                    url: %1$s
                    model-name: double
                  small:
                    type: grpc
                    protocol: model-service
                    url: %1$s
                    model-name: half
                    max-message-size: 1KB
                  gone:
                    type: grpc
                    protocol: kserve-v2
                    url: grpc://127.0.0.1:%2$d
                routes:
                  - {model: double, backend: triton}
                  - {model: slow, backend: triton}
                  - {model: broken, backend: triton}
                  - {model: ghost, backend: triton}
                  - {model: half, backend: article}
                  - {model: slow-too, backend: impatient, timeout: 5s}
                  - {model: twice, backend: renamed}
                  - {model: lost, backend: gone}
                  - {model: half-small, backend: small}
                """.formatted(server.url(), closedPort, server.backends()));
    }

    @AfterAll
    static void stop() throws Exception {
        gateway.close();
        server.close();
    }

    private static HttpResponse<String> kserve(String model, String data, String... headers) {
        return gateway.post("/v2/models/" + model + "/infer", "application/json", """
                {"id":"7","inputs":[{"name":"x","shape":[%d],"datatype":"FP32","data":[%s]}]}"""
                .formatted(data.split(",").length, data), headers);
    }

    private static void assertError(HttpResponse<String> response, int status, int code) throws Exception {
        assertEquals(status, response.statusCode(), response.body());
        assertEquals(code, JSON.readTree(response.body()).get("code").asInt(), response.body());
    }

    @Test
    void aKServeJsonClientReachesAKServeGrpcServer() throws Exception {
        HttpResponse<String> response = kserve("double", "1.0,2.0,5.0", "X-Request-Id", "req-42");

        assertEquals(200, response.statusCode(), response.body());
        JsonNode answer = JSON.readTree(response.body());
        assertEquals("7", answer.get("id").asText());
        assertEquals("double", answer.get("model_name").asText());
        assertEquals("y", answer.get("outputs").get(0).get("name").asText());
        assertEquals(JSON.readTree("[2.0,4.0,10.0]"), answer.get("outputs").get(0).get("data"));
        assertEquals("req-42", server.lastRequestId.get(), "x-request-id travels as gRPC metadata");
    }

    @Test
    void aTfServingClientReachesAKServeGrpcServerWhoseMetadataNamesTheInput() throws Exception {
        HttpResponse<String> response = gateway.post("/tfserving/v1/models/double:predict", "application/json",
                "{\"instances\": [1.0, 2.0, 5.0]}");

        assertEquals(200, response.statusCode(), response.body());
        assertEquals(JSON.readTree("{\"predictions\":[2.0,4.0,10.0]}"), JSON.readTree(response.body()));
    }

    @Test
    void kserveMetadataComesFromTheGrpcServer() throws Exception {
        JsonNode metadata = JSON.readTree(gateway.get("/v2/models/double").body());

        assertEquals("double", metadata.get("name").asText());
        assertEquals("x", metadata.get("inputs").get(0).get("name").asText());
        assertEquals("y", metadata.get("outputs").get(0).get("name").asText());
    }

    @Test
    void clientsOfBothJsonDialectsReachAModelServiceServer() throws Exception {
        HttpResponse<String> viaTfServing = gateway.post("/tfserving/v1/models/half:predict", "application/json",
                "{\"instances\": [[1.0, 2.0, 5.0]]}");
        HttpResponse<String> viaKServe = gateway.post("/v2/models/half/infer", "application/json", """
                {"inputs":[{"name":"features","shape":[1,2],"datatype":"FP32","data":[4,6]}]}""");

        assertEquals(200, viaTfServing.statusCode(), viaTfServing.body());
        assertEquals(JSON.readTree("{\"predictions\":[[2.5,3.0,4.5]]}"), JSON.readTree(viaTfServing.body()));
        assertEquals(200, viaKServe.statusCode(), viaKServe.body());
        JsonNode output = JSON.readTree(viaKServe.body()).get("outputs").get(0);
        assertEquals("prediction", output.get("name").asText());
        assertEquals(JSON.readTree("[4.0,5.0]"), output.get("data"));
    }

    @Test
    void aModelServiceModelIsDescribedByThePlaceholderAsTheServiceHasNoMetadataCall() throws Exception {
        HttpResponse<String> response = gateway.get("/v2/models/half");

        assertEquals(200, response.statusCode(), response.body());
        assertEquals("half", JSON.readTree(response.body()).get("name").asText());
    }

    @Test
    void theConfiguredModelNameIsTheOneTheServerSees() throws Exception {
        HttpResponse<String> response = kserve("twice", "3.0");

        assertEquals(200, response.statusCode(), response.body());
        JsonNode answer = JSON.readTree(response.body());
        assertEquals("twice", answer.get("model_name").asText());
        assertEquals(JSON.readTree("[6.0]"), answer.get("outputs").get(0).get("data"));
    }

    @Test
    void theServersStatusesBecomeTheGatewaysCodes() throws Exception {
        assertError(kserve("double", "1,2,3,4"), 400, 40006);
        assertError(kserve("ghost", "1"), 404, 40027);
        assertError(kserve("broken", "1"), 502, 40005);
        assertError(kserve("lost", "1"), 503, 40003);
        assertTrue(JSON.readTree(kserve("ghost", "1").body()).get("error").asText()
                .endsWith("backend answered NOT_FOUND: Request for unknown model: 'ghost'"),
                "the server's own words reach the client");
    }

    @Test
    void anAnswerOverMaxMessageSizeFailsTheCallClearly() throws Exception {
        String features = String.join(",", Collections.nCopies(400, "1"));
        HttpResponse<String> response = gateway.post("/v2/models/half-small/infer", "application/json", """
                {"inputs":[{"name":"features","shape":[1,400],"datatype":"FP32","data":[%s]}]}""".formatted(features));

        assertError(response, 502, 40005);
        assertTrue(JSON.readTree(response.body()).get("error").asText()
                .contains("backend answered RESOURCE_EXHAUSTED: gRPC message exceeds maximum size 1024"),
                response.body());
    }

    @Test
    void theRequestsDeadlineIsTheCallsAndTheBackendsTimeoutItsOwn() throws Exception {
        long start = System.nanoTime();
        assertError(kserve("slow", "1", "X-Request-Timeout", "300ms"), 504, 40008);
        long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertTrue(tookMillis < 3_000, "answered at the deadline, not the 30s request timeout: " + tookMillis + "ms");

        assertError(kserve("slow-too", "1"), 504, 40004);
    }
}
