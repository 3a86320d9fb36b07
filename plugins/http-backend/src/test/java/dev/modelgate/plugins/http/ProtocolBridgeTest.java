package dev.modelgate.plugins.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.modelgate.kernel.testing.RunningGateway;
import dev.modelgate.kernel.testing.TestBackend.Reply;
import dev.modelgate.kernel.testing.TestBackend;
import java.net.http.HttpResponse;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The shipped example {@code model-servers.yaml}: one gateway in front of a TensorFlow Serving stand-in ({@code half}: y = x / 2 + 2) and a KServe v2 stand-in
 * ({@code double}: y = 2x), each speaking only its own wire format: clients of either protocol reach both, and get the
 * same numbers back.
 */
class ProtocolBridgeTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static TestBackend tfServing;
    private static TestBackend kserve;
    private static RunningGateway gateway;
    private static final java.util.concurrent.atomic.AtomicInteger TF_METADATA_CALLS =
            new java.util.concurrent.atomic.AtomicInteger();

    @BeforeAll
    static void start() throws Exception {
        tfServing = TestBackend.start(ProtocolBridgeTest::tfServing);
        kserve = TestBackend.start(ProtocolBridgeTest::kserve);
        gateway = RunningGateway.start(ExamplesTest.runnable("model-servers.yaml"), null, Map.of(
                "MODELGATE_TFSERVING_URL", tfServing.url(""), "MODELGATE_KSERVE_URL", kserve.url("")));
    }

    @AfterAll
    static void stop() throws Exception {
        gateway.close();
        tfServing.close();
        kserve.close();
    }

    /** TF Serving's REST predict on columnar input, and its metadata, for a model with input x and output y. */
    private static Reply tfServing(TestBackend.Request request) throws Exception {
        if (request.path().equals("/v1/models/half/metadata")) {
            TF_METADATA_CALLS.incrementAndGet();
            return Reply.json(200, """
                    {"model_spec":{"name":"half","signature_name":"","version":"1"},
                     "metadata":{"signature_def":{"signature_def":{"serving_default":{
                       "inputs":{"x":{"dtype":"DT_FLOAT","tensor_shape":{"dim":[{"size":"-1","name":""}],
                                 "unknown_rank":false},"name":"x:0"}},
                       "outputs":{"y":{"dtype":"DT_FLOAT","tensor_shape":{"dim":[{"size":"-1","name":""}],
                                 "unknown_rank":false},"name":"y:0"}},
                       "method_name":"tensorflow/serving/predict"}}}}}""");
        }
        if (!request.path().equals("/v1/models/half:predict")) {
            return Reply.json(404, "{\"error\":\"Servable not found for request: Latest(" + request.path() + ")\"}");
        }
        JsonNode body = JSON.readTree(request.body());
        JsonNode x = body.has("instances") ? body.get("instances") : body.get("inputs");
        if (x.isObject()) {
            x = x.get("x");
        }
        ArrayNode y = JSON.createArrayNode();
        x.forEach(value -> y.add(value.asDouble() / 2 + 2));
        String key = body.has("instances") ? "predictions" : "outputs";
        return Reply.json(200, JSON.createObjectNode().set(key, y).toString());
    }

    /** KServe v2 infer and model metadata, for a model with FP32 input x and output y. */
    private static Reply kserve(TestBackend.Request request) throws Exception {
        if (request.path().equals("/v2/models/double")) {
            return Reply.json(200, """
                    {"name":"double","versions":["1"],"platform":"onnxruntime_onnx",
                     "inputs":[{"name":"x","datatype":"FP32","shape":[-1]}],
                     "outputs":[{"name":"y","datatype":"FP32","shape":[-1]}]}""");
        }
        if (!request.path().equals("/v2/models/double/infer")) {
            return Reply.json(404, "{\"error\":\"Model with name " + request.path() + " does not exist.\"}");
        }
        JsonNode input = JSON.readTree(request.body()).get("inputs").get(0);
        if (!input.get("name").asText().equals("x") || !input.get("datatype").asText().equals("FP32")) {
            return Reply.json(400, error("expected FP32 input x"));
        }
        if (input.get("data").size() > 3) {
            return Reply.json(400, error("at most 3 values per call"));
        }
        ArrayNode data = JSON.createArrayNode();
        input.get("data").forEach(value -> data.add(value.asDouble() * 2));
        ObjectNode output = JSON.createObjectNode().put("name", "y").put("datatype", "FP32");
        output.set("shape", input.get("shape"));
        output.set("data", data);
        ObjectNode answer = JSON.createObjectNode().put("model_name", "double").put("model_version", "1");
        answer.putArray("outputs").add(output);
        return Reply.json(200, answer.toString());
    }

    private static String error(String message) {
        return JSON.createObjectNode().put("error", message).toString();
    }

    @Test
    void aKServeClientReachesATfServingBackend() throws Exception {
        HttpResponse<String> response = gateway.post("/v2/models/half/infer", "application/json", """
                {"id":"7","inputs":[{"name":"x","shape":[3],"datatype":"FP32","data":[1.0,2.0,5.0]}]}""");

        assertEquals(200, response.statusCode(), response.body());
        JsonNode answer = JSON.readTree(response.body());
        assertEquals("7", answer.get("id").asText());
        assertEquals("half", answer.get("model_name").asText());
        JsonNode y = answer.get("outputs").get(0);
        assertEquals("y", y.get("name").asText());
        assertEquals(JSON.readTree("[2.5,3.0,4.5]"), y.get("data"));
    }

    @Test
    void aTfServingClientReachesAKServeBackend() throws Exception {
        HttpResponse<String> response = gateway.post("/tfserving/v1/models/double:predict", "application/json",
                "{\"instances\": [1.0, 2.0, 5.0]}");

        assertEquals(200, response.statusCode(), response.body());
        assertEquals(JSON.readTree("{\"predictions\":[2.0,4.0,10.0]}"), JSON.readTree(response.body()));
    }

    @Test
    void bothClientsGetTheSameNumbersFromOneModel() throws Exception {
        JsonNode viaKServe = JSON.readTree(gateway.post("/v2/models/double/infer", "application/json", """
                {"inputs":[{"name":"x","shape":[2],"datatype":"FP32","data":[1.5,-3]}]}""").body());
        JsonNode viaTfServing = JSON.readTree(gateway.post("/tfserving/v1/models/double:predict", "application/json",
                "{\"inputs\": [1.5, -3]}").body());

        assertEquals(viaKServe.get("outputs").get(0).get("data"), viaTfServing.get("outputs"));
    }

    @Test
    void aTfServingClientOfATfServingBackendGetsTheBackendsOwnBytes() throws Exception {
        HttpResponse<String> response = gateway.post("/tfserving/v1/models/half:predict", "application/json",
                "{\"instances\": [4.0]}");

        assertEquals(200, response.statusCode());
        assertEquals("{\"predictions\":[4.0]}", response.body());
        assertEquals("/v1/models/half:predict", tfServing.lastRequest().path());
    }

    @Test
    void aBackendsOwnErrorPassesThroughToAClientOfItsProtocol() throws Exception {
        HttpResponse<String> response = gateway.post("/v2/models/double/infer", "application/json", """
                {"inputs":[{"name":"z","shape":[1],"datatype":"FP32","data":[1]}]}""");

        assertEquals(400, response.statusCode());
        assertEquals("{\"error\":\"expected FP32 input x\"}", response.body());
        assertNull(response.headers().firstValue("X-Modelgate-Code").orElse(null));
    }

    @Test
    void aBackendsRefusalReachesAClientOfTheOtherProtocolWithTheGatewaysCode() throws Exception {
        HttpResponse<String> response = gateway.post("/tfserving/v1/models/double:predict", "application/json",
                "{\"inputs\": {\"x\": [1.0, 2.0, 3.0, 4.0]}}");

        assertEquals(400, response.statusCode(), response.body());
        assertEquals("backend rejected the request: backend answered HTTP 400: at most 3 values per call",
                JSON.readTree(response.body()).get("error").asText());
        assertEquals("40006", response.headers().firstValue("X-Modelgate-Code").orElseThrow());
        assertEquals(40006, JSON.readTree(response.body()).get("code").asInt());
    }

    @Test
    void aRouteListingItsFrontsIsNotReachedFromTheOthers() throws Exception {
        HttpResponse<String> response = gateway.post("/v1/models/double:predict", "application/json",
                "{\"instances\": [1.0]}");

        assertEquals(404, response.statusCode());
        assertEquals(40010, JSON.readTree(response.body()).get("code").asInt());
    }

    @Test
    void theGatewayApiDescribesAModelWithTheServersOwnMetadataAskedOnceForAWhile() throws Exception {
        int before = TF_METADATA_CALLS.get();
        JsonNode first = JSON.readTree(gateway.get("/v1/models/half").body());
        JsonNode second = JSON.readTree(gateway.get("/v1/models/half").body());

        assertEquals(0, first.get("code").asInt(), first.toString());
        JsonNode metadata = first.get("data").get("metadata");
        assertEquals("x", metadata.get("inputs").get(0).get("name").asText(), first.toString());
        assertEquals("FP32", metadata.get("inputs").get(0).get("datatype").asText());
        assertEquals("y", metadata.get("outputs").get(0).get("name").asText());
        assertEquals(first, second);
        assertTrue(TF_METADATA_CALLS.get() - before <= 1, "the server's metadata is kept, not asked per request");
    }

    @Test
    void kserveMetadataComesFromATfServingBackendsSignature() throws Exception {
        JsonNode metadata = JSON.readTree(gateway.get("/v2/models/half").body());

        assertEquals("half", metadata.get("name").asText());
        assertEquals("x", metadata.get("inputs").get(0).get("name").asText());
        assertEquals("FP32", metadata.get("inputs").get(0).get("datatype").asText());
        assertEquals("y", metadata.get("outputs").get(0).get("name").asText());
    }
}
