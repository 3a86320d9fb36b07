package dev.modelgate.plugins.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.modelgate.kernel.testing.RunningGateway;
import dev.modelgate.plugins.kservev2.protobuf.inference.InferTensorContents;
import dev.modelgate.plugins.kservev2.protobuf.inference.ModelInferRequest;
import dev.modelgate.plugins.kservev2.protobuf.inference.ModelInferResponse;
import java.io.ByteArrayOutputStream;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The embedded demo model through every front and media type, as the shipped configuration serves it: the gateway's
 * own API, TensorFlow Serving REST under /tfserving, KServe v2 REST in JSON, Triton's binary form, MessagePack and
 * Protobuf, gzip both ways, and the errors each gets for bad input.
 */
class FrontsTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient CLIENT = HttpClient.newHttpClient();
    private static final float[] SETOSA = {5.1f, 3.5f, 1.4f, 0.2f};
    private static final float[] VIRGINICA = {6.3f, 3.3f, 6.0f, 2.5f};
    private static RunningGateway gateway;

    @BeforeAll
    static void start() throws Exception {
        gateway = RunningGateway.start("""
                server:
                  address: 127.0.0.1
                  max-body-size: 64KB
                  gzip-min-size: 256B
                backends:
                  demo:
                    type: onnx
                    model: classpath:models/demo.onnx
                routes:
                  - model: demo
                    versions: [v1, v2]
                    backend: demo
                  - model: lenient
                    backend: demo
                    accepts-non-finite: true
                """);
    }

    @AfterAll
    static void stop() throws Exception {
        gateway.close();
    }

    private static HttpResponse<byte[]> send(String method, String path, byte[] body, String... headers)
            throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(gateway.uri(path))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofByteArray(body));
        for (int i = 0; i < headers.length; i += 2) {
            request.header(headers[i], headers[i + 1]);
        }
        return CLIENT.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    private static JsonNode json(HttpResponse<byte[]> response) throws Exception {
        return JSON.readTree(response.body());
    }

    private static String kserveRequest(String datatype, String shape, String data) {
        return "{\"id\":\"r1\",\"inputs\":[{\"name\":\"features\",\"shape\":" + shape + ",\"datatype\":\"" + datatype
                + "\",\"data\":" + data + "}],\"outputs\":[{\"name\":\"label\"}]}";
    }

    private static void assertError(HttpResponse<byte[]> response, int status, int code) throws Exception {
        assertEquals(status, response.statusCode(), new String(response.body(), StandardCharsets.UTF_8));
        assertEquals(Integer.toString(code), response.headers().firstValue("X-Modelgate-Code").orElse(null));
        JsonNode body = json(response);
        assertEquals(code, body.has("code") ? body.get("code").asInt() : -1);
    }

    @Test
    void theGatewayApiTfServingAndKServeGiveTheSameLabels() throws Exception {
        String rows = "{\"instances\":[[5.1,3.5,1.4,0.2],[6.3,3.3,6.0,2.5]]}";
        JsonNode viaGateway = json(send("POST", "/v1/models/demo:predict", rows.getBytes(),
                "Content-Type", "application/json")).get("data").get("predictions");
        JsonNode viaTfServing = json(send("POST", "/tfserving/v1/models/demo:predict", rows.getBytes(),
                "Content-Type", "application/json")).get("predictions");
        JsonNode viaKServe = json(send("POST", "/v2/models/demo/infer",
                kserveRequest("FP32", "[2,4]", "[[5.1,3.5,1.4,0.2],[6.3,3.3,6.0,2.5]]").getBytes(),
                "Content-Type", "application/json"));

        assertEquals(viaGateway, viaTfServing);
        assertEquals(0, viaTfServing.get(0).get("label").asInt());
        assertEquals(2, viaTfServing.get(1).get("label").asInt());
        assertEquals("r1", viaKServe.get("id").asText());
        assertEquals("demo", viaKServe.get("model_name").asText());
        assertEquals(JSON.readTree("[0,2]"), viaKServe.get("outputs").get(0).get("data"));
    }

    @Test
    void kserveHealthMetadataAndReadinessAnswerAsTheProtocolSays() throws Exception {
        assertEquals(JSON.readTree("{\"live\":true}"), json(send("GET", "/v2/health/live", null)));
        assertEquals(JSON.readTree("{\"ready\":true}"), json(send("GET", "/v2/health/ready", null)));
        assertEquals("modelgate", json(send("GET", "/v2", null)).get("name").asText());
        assertEquals(JSON.readTree("{\"name\":\"demo\",\"ready\":true}"),
                json(send("GET", "/v2/models/demo/ready", null)));
        assertEquals(JSON.readTree("""
                {"name":"demo","platform":"onnxruntime_onnx",
                 "inputs":[{"name":"features","datatype":"FP32","shape":[-1,4]}],
                 "outputs":[{"name":"probabilities","datatype":"FP32","shape":[-1,3]},
                            {"name":"label","datatype":"INT64","shape":[-1]}]}"""),
                json(send("GET", "/v2/models/demo", null)));
    }

    @Test
    void tfServingStatusAndMetadataAnswerAsTfServingDoes() throws Exception {
        JsonNode status = json(send("GET", "/tfserving/v1/models/demo", null));
        assertEquals("AVAILABLE", status.get("model_version_status").get(0).get("state").asText());

        JsonNode signature = json(send("GET", "/tfserving/v1/models/demo/metadata", null))
                .get("metadata").get("signature_def").get("signature_def").get("serving_default");
        assertEquals("DT_FLOAT", signature.get("inputs").get("features").get("dtype").asText());
    }

    @Test
    void tritonsBinaryTensorFormGoesBothWays() throws Exception {
        byte[] header = ("{\"inputs\":[{\"name\":\"features\",\"shape\":[1,4],\"datatype\":\"FP32\","
                + "\"parameters\":{\"binary_data_size\":16}}],"
                + "\"outputs\":[{\"name\":\"label\",\"parameters\":{\"binary_data\":true}}]}")
                .getBytes(StandardCharsets.UTF_8);
        ByteBuffer tensor = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
        tensor.asFloatBuffer().put(VIRGINICA);
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.writeBytes(header);
        body.writeBytes(tensor.array());

        HttpResponse<byte[]> response = send("POST", "/v2/models/demo/infer", body.toByteArray(),
                "Content-Type", "application/octet-stream",
                "Inference-Header-Content-Length", Integer.toString(header.length));

        assertEquals(200, response.statusCode(), new String(response.body(), StandardCharsets.UTF_8));
        int jsonLength = Integer.parseInt(response.headers().firstValue("Inference-Header-Content-Length")
                .orElseThrow());
        JsonNode answer = JSON.readTree(new String(response.body(), 0, jsonLength, StandardCharsets.UTF_8));
        assertEquals(8, answer.get("outputs").get(0).get("parameters").get("binary_data_size").asInt());
        long label = ByteBuffer.wrap(response.body(), jsonLength, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertEquals(2, label);
    }

    @Test
    void anOutputsOwnBinaryDataFalseOverridesBinaryDataOutput() throws Exception {
        String request = "{\"parameters\":{\"binary_data_output\":true},\"inputs\":[{\"name\":\"features\","
                + "\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":[6.3,3.3,6.0,2.5]}],\"outputs\":["
                + "{\"name\":\"probabilities\"},{\"name\":\"label\",\"parameters\":{\"binary_data\":false}}]}";

        HttpResponse<byte[]> response = send("POST", "/v2/models/demo/infer",
                request.getBytes(StandardCharsets.UTF_8), "Content-Type", "application/json");

        assertEquals(200, response.statusCode(), new String(response.body(), StandardCharsets.UTF_8));
        int jsonLength = Integer.parseInt(response.headers().firstValue("Inference-Header-Content-Length")
                .orElseThrow());
        JsonNode answer = JSON.readTree(new String(response.body(), 0, jsonLength, StandardCharsets.UTF_8));
        assertEquals(12, answer.get("outputs").get(0).get("parameters").get("binary_data_size").asInt());
        assertEquals(JSON.readTree("[2]"), answer.get("outputs").get(1).get("data"));
        assertEquals(jsonLength + 12, response.body().length);
    }

    @Test
    void protobufBodiesFromTheGeneratedMessagesGoBothWays() throws Exception {
        ModelInferRequest request = ModelInferRequest.newBuilder().setId("p1")
                .addInputs(ModelInferRequest.InferInputTensor.newBuilder().setName("features").setDatatype("FP32")
                        .addShape(1).addShape(4).setContents(InferTensorContents.newBuilder()
                                .addFp32Contents(SETOSA[0]).addFp32Contents(SETOSA[1])
                                .addFp32Contents(SETOSA[2]).addFp32Contents(SETOSA[3])))
                .build();

        HttpResponse<byte[]> response = send("POST", "/v2/models/demo/infer", request.toByteArray(),
                "Content-Type", "application/x-protobuf", "Accept", "application/x-protobuf");

        assertEquals(200, response.statusCode());
        assertEquals("application/x-protobuf", response.headers().firstValue("Content-Type").orElseThrow());
        ModelInferResponse answer = ModelInferResponse.parseFrom(response.body());
        assertEquals("p1", answer.getId());
        int label = answer.getOutputsList().stream().map(ModelInferResponse.InferOutputTensor::getName).toList()
                .indexOf("label");
        assertEquals(0, answer.getRawOutputContents(label).asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN)
                .getLong());
    }

    @Test
    void messagePackFromAnotherLibraryIsReadAndAnsweredInKind() throws Exception {
        byte[] body = PythonMsgpack.pack("{'instances': [[5.1, 3.5, 1.4, 0.2]]}");

        HttpResponse<byte[]> response = send("POST", "/tfserving/v1/models/demo:predict", body,
                "Content-Type", "application/msgpack");

        assertEquals(200, response.statusCode(), new String(response.body(), StandardCharsets.UTF_8));
        assertEquals("application/msgpack", response.headers().firstValue("Content-Type").orElseThrow());
        String decoded = PythonMsgpack.unpack(response.body(), "d['predictions'][0]['label']");
        assertEquals("0", decoded);
    }

    @Test
    void gzipBodiesAreInflatedAndLargeAnswersCompressed() throws Exception {
        StringBuilder rows = new StringBuilder("{\"instances\":[");
        for (int i = 0; i < 20; i++) {
            rows.append(i == 0 ? "" : ",").append("[6.3,3.3,6.0,2.5]");
        }
        byte[] body = gzip(rows.append("]}").toString().getBytes(StandardCharsets.UTF_8));

        HttpResponse<byte[]> response = send("POST", "/tfserving/v1/models/demo:predict", body,
                "Content-Type", "application/json", "Content-Encoding", "gzip", "Accept-Encoding", "gzip");

        assertEquals(200, response.statusCode());
        assertEquals("gzip", response.headers().firstValue("Content-Encoding").orElseThrow());
        JsonNode answer = JSON.readTree(new GZIPInputStream(new java.io.ByteArrayInputStream(response.body())));
        assertEquals(20, answer.get("predictions").size());
    }

    @Test
    void clientsThatDeclareNoJsonAreReadAsTheModelServersReadThem() throws Exception {
        byte[] kserve = kserveRequest("FP32", "[1,4]", "[6.3,3.3,6.0,2.5]").getBytes(StandardCharsets.UTF_8);
        byte[] rows = "{\"instances\":[[6.3,3.3,6.0,2.5]]}".getBytes(StandardCharsets.UTF_8);

        assertEquals(200, send("POST", "/v2/models/demo/infer", kserve).statusCode(), "no Content-Type");
        assertEquals(200, send("POST", "/tfserving/v1/models/demo:predict", rows,
                "Content-Type", "application/x-www-form-urlencoded").statusCode(), "curl -d");
    }

    @Test
    void tritonClientsBinaryRequestNeedsNoContentTypeAndMayBeDeflated() throws Exception {
        byte[] header = ("{\"inputs\":[{\"name\":\"features\",\"shape\":[1,4],\"datatype\":\"FP32\","
                + "\"parameters\":{\"binary_data_size\":16}}]}").getBytes(StandardCharsets.UTF_8);
        ByteBuffer tensor = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
        tensor.asFloatBuffer().put(SETOSA);
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.writeBytes(header);
        body.writeBytes(tensor.array());
        ByteArrayOutputStream deflated = new ByteArrayOutputStream();
        try (var zlib = new java.util.zip.DeflaterOutputStream(deflated)) {
            zlib.write(body.toByteArray());
        }

        HttpResponse<byte[]> response = send("POST", "/v2/models/demo/infer", deflated.toByteArray(),
                "Content-Encoding", "deflate", "Inference-Header-Content-Length", Integer.toString(header.length));

        assertEquals(200, response.statusCode(), new String(response.body(), StandardCharsets.UTF_8));
        assertEquals(0, json(response).get("outputs").get(1).get("data").get(0).asInt());
    }

    @Test
    void aGzipBombIsRefusedAt413() throws Exception {
        byte[] bomb = gzip(new byte[1 << 20]); // a megabyte of zeros: about a kilobyte on the wire

        assertTrue(bomb.length < 64 << 10);
        assertError(send("POST", "/v2/models/demo/infer", bomb, "Content-Type", "application/json",
                "Content-Encoding", "gzip"), 413, 20029);
    }

    @Test
    void eachKindOfBadInputGetsItsOwnCode() throws Exception {
        assertError(send("POST", "/v2/models/demo/infer", kserveRequest("FP32", "[2,4]", "[1,2,3]").getBytes(),
                "Content-Type", "application/json"), 400, 20014);
        assertError(send("POST", "/v2/models/demo/infer", kserveRequest("FP128", "[1,4]", "[1,2,3,4]").getBytes(),
                "Content-Type", "application/json"), 400, 20015);
        assertError(send("POST", "/v2/models/demo/infer", new byte[] {(byte) 0x82, (byte) 0xa6, 'i', 'n'},
                "Content-Type", "application/msgpack"), 400, 20017);
        byte[] protobuf = ModelInferRequest.newBuilder().setId("truncated").addInputs(
                ModelInferRequest.InferInputTensor.newBuilder().setName("features").setDatatype("FP32"))
                .build().toByteArray();
        assertError(send("POST", "/v2/models/demo/infer", java.util.Arrays.copyOf(protobuf, protobuf.length - 3),
                "Content-Type", "application/x-protobuf"), 400, 20017);
        assertError(send("POST", "/v2/models/demo/infer", "not gzip at all".getBytes(),
                "Content-Type", "application/json", "Content-Encoding", "gzip"), 400, 20019);
        assertError(send("POST", "/v2/models/demo/infer", "features=1".getBytes(),
                "Content-Type", "text/plain"), 415, 20002);
        assertError(send("POST", "/v2/models/demo/infer", kserveRequest("FP32", "[1,4]", "[1,2,3,4]").getBytes(),
                "Content-Type", "application/json", "Accept", "text/csv"), 406, 20018);
        assertError(send("POST", "/v2/models/demo/infer", kserveRequest("FP32", "[1,5]", "[1,2,3,4,5]").getBytes(),
                "Content-Type", "application/json"), 400, 20007);
    }

    @Test
    void aModelVersionTheBackendDoesNotServeIs404OnEveryProtocol() throws Exception {
        byte[] body = kserveRequest("FP32", "[1,4]", "[5.1,3.5,1.4,0.2]").getBytes(StandardCharsets.UTF_8);

        assertEquals(200, send("POST", "/v2/models/demo/versions/1/infer", body).statusCode());
        assertError(send("POST", "/v2/models/demo/versions/9/infer", body), 404, 40002);
        assertError(send("GET", "/v2/models/demo/versions/9/ready", null), 404, 40002);
        assertError(send("GET", "/tfserving/v1/models/demo/versions/7", null), 404, 40002);
        assertError(send("GET", "/tfserving/v1/models/demo/versions/7/metadata", null), 404, 40002);
    }

    @Test
    void shapesThatOverflowAndValuesThatDoNotFitAreRefusedAtDecoding() throws Exception {
        assertError(send("POST", "/v2/models/demo/infer",
                kserveRequest("FP32", "[3,3074457345618258603]", "[1]").getBytes(StandardCharsets.UTF_8)), 400, 20014);
        assertError(send("POST", "/v2/models/demo/infer",
                kserveRequest("FP32", "[1,4]", "[1e300,3.5,1.4,0.2]").getBytes(StandardCharsets.UTF_8)), 400, 20016);
    }

    @Test
    void malformedJsonSaysWhereWithoutTheParsersOptionNames() throws Exception {
        assertTruncatedAt("/v2/models/demo/infer", "{\"inputs\":[{\"name\":\"features\",\"shape\":[1,4],"
                + "\"datatype\":\"FP32\",\n\"data\":[5.1,3.5,1.4,0.2]}]", "line 2, column 27");
        assertTruncatedAt("/tfserving/v1/models/demo:predict", "{\"instances\":\n[[5.1,3.5,1.4,0.2]]",
                "line 2, column 20");
    }

    private static void assertTruncatedAt(String path, String body, String where) throws Exception {
        HttpResponse<byte[]> response = send("POST", path, body.getBytes(StandardCharsets.UTF_8),
                "Content-Type", "application/json");

        assertError(response, 400, 20001);
        assertEquals("malformed JSON body: Unexpected end-of-input: expected close marker for Object (start marker"
                + " at line 1, column 1) at " + where, json(response).get("error").asText(), path);
    }

    /** NaN and infinities, whatever their spelling or encoding, are refused (20040) instead of a garbage answer. */
    private static void assertNonFiniteRefused(HttpResponse<byte[]> response, String detail) throws Exception {
        assertError(response, 400, 20040);
        JsonNode body = json(response);
        String message = body.has("message") ? body.get("message").asText() : body.get("error").asText();
        assertEquals("tensor value is NaN or infinite: " + detail + "; this model takes finite numbers only",
                message);
    }

    private static HttpResponse<byte[]> postJson(String path, String body) throws Exception {
        return send("POST", path, body.getBytes(StandardCharsets.UTF_8), "Content-Type", "application/json");
    }

    @Test
    void aNumberBeyondDoubleOnTheGatewayApiIsRefused() throws Exception {
        assertNonFiniteRefused(postJson("/v1/models/demo:predict", "{\"instances\":[[1e999,1,2,3]]}"),
                "tensor 'features' element 0 is Infinity");
    }

    @Test
    void theModelServersNanAndInfinitySpellingsAreRefused() throws Exception {
        assertNonFiniteRefused(postJson("/tfserving/v1/models/demo:predict", "{\"instances\":[[5.1,NaN,1.4,0.2]]}"),
                "tensor 'features' element 1 is NaN");
        assertNonFiniteRefused(postJson("/v2/models/demo/infer", kserveRequest("FP32", "[1,4]",
                "[5.1,3.5,-Infinity,0.2]")), "tensor 'features' element 2 is -Infinity");
    }

    @Test
    void rawIeeeValuesInTritonsBinaryFormAreRefusedAlike() throws Exception {
        byte[] header = ("{\"inputs\":[{\"name\":\"features\",\"shape\":[1,4],\"datatype\":\"FP32\","
                + "\"parameters\":{\"binary_data_size\":16}}]}").getBytes(StandardCharsets.UTF_8);
        ByteBuffer tensor = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
        tensor.asFloatBuffer().put(new float[] {5.1f, 3.5f, 1.4f, Float.POSITIVE_INFINITY});
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.writeBytes(header);
        body.writeBytes(tensor.array());

        assertNonFiniteRefused(send("POST", "/v2/models/demo/infer", body.toByteArray(),
                "Content-Type", "application/octet-stream",
                "Inference-Header-Content-Length", Integer.toString(header.length)),
                "tensor 'features' element 3 is Infinity");
    }

    @Test
    void protobufAndMessagePackValuesAreRefusedAlike() throws Exception {
        ModelInferRequest protobuf = ModelInferRequest.newBuilder()
                .addInputs(ModelInferRequest.InferInputTensor.newBuilder().setName("features").setDatatype("FP32")
                        .addShape(1).addShape(4).setContents(InferTensorContents.newBuilder()
                                .addFp32Contents(Float.NaN).addFp32Contents(1).addFp32Contents(2)
                                .addFp32Contents(3)))
                .build();
        assertNonFiniteRefused(send("POST", "/v2/models/demo/infer", protobuf.toByteArray(),
                "Content-Type", "application/x-protobuf"), "tensor 'features' element 0 is NaN");

        byte[] msgpack = PythonMsgpack.pack("{'instances': [[5.1, 3.5, 1.4, float('inf')]]}");
        assertNonFiniteRefused(send("POST", "/v1/models/demo:predict", msgpack, "Content-Type", "application/msgpack",
                "Accept", "application/json"), "tensor 'features' element 3 is Infinity");
    }

    @Test
    void aRouteThatAcceptsNonFiniteValuesPassesThemToTheModel() throws Exception {
        HttpResponse<byte[]> response = postJson("/tfserving/v1/models/lenient:predict",
                "{\"instances\":[[NaN,3.5,1.4,0.2]]}");

        assertEquals(200, response.statusCode(), new String(response.body(), StandardCharsets.UTF_8));
    }

    @Test
    void headIsAnsweredWhereGetIs() throws Exception {
        for (String path : java.util.List.of("/v1/models", "/v1/models/demo", "/v2/models/demo", "/models",
                "/v2/models", "/tfserving/v1/models/demo", "/tfserving/v1/models/demo/metadata",
                "/tfserving/v1/models/demo/versions/1", "/v2", "/v2/health/live", "/v2/health/ready",
                "/v2/models/demo/ready", "/v2/models/demo/versions/1", "/v1/models/unknown")) {
            assertHeadLikeGet(gateway.uri(path));
        }
        for (String path : java.util.List.of("/healthz", "/readyz", "/metrics")) {
            assertHeadLikeGet(gateway.adminUri(path));
        }
    }

    private static void assertHeadLikeGet(java.net.URI uri) throws Exception {
        HttpResponse<byte[]> get = CLIENT.send(HttpRequest.newBuilder(uri).GET().build(),
                HttpResponse.BodyHandlers.ofByteArray());
        HttpResponse<byte[]> head = CLIENT.send(HttpRequest.newBuilder(uri).HEAD().build(),
                HttpResponse.BodyHandlers.ofByteArray());

        assertEquals(get.statusCode(), head.statusCode(), uri.toString());
        assertEquals(get.headers().firstValue("Content-Type"), head.headers().firstValue("Content-Type"),
                uri.toString());
        assertEquals(0, head.body().length, uri.toString());
    }

    @Test
    void tritonsClassificationExtensionIsRefusedRatherThanIgnored() throws Exception {
        String request = "{\"inputs\":[{\"name\":\"features\",\"shape\":[1,4],\"datatype\":\"FP32\","
                + "\"data\":[5.1,3.5,1.4,0.2]}],\"outputs\":[{\"name\":\"probabilities\","
                + "\"parameters\":{\"classification\":2}}]}";

        assertError(send("POST", "/v2/models/demo/infer", request.getBytes(StandardCharsets.UTF_8)), 501, 40009);
    }

    @Test
    void classifyOnAModelWithoutAClassificationSignatureIs400() throws Exception {
        assertError(send("POST", "/tfserving/v1/models/demo:classify",
                "{\"examples\":[{\"features\":[5.1,3.5,1.4,0.2]}]}".getBytes(StandardCharsets.UTF_8)), 400, 20007);
    }

    @Test
    void errorsOfTheGatewayApiKeepTheirEnvelope() throws Exception {
        HttpResponse<byte[]> response = send("POST", "/v1/models/demo:predict", "{\"instances\":[[1,2]]}".getBytes(),
                "Content-Type", "application/json");

        assertEquals(400, response.statusCode());
        assertEquals(20007, json(response).get("code").asInt());
        assertTrue(json(response).has("message"));
    }

    private static byte[] gzip(byte[] bytes) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream gzip = new GZIPOutputStream(out)) {
            gzip.write(bytes);
        }
        return out.toByteArray();
    }

    @Test
    void anUnknownPathUnderAProtocolsPrefixAnswersInThatProtocolsShape() throws Exception {
        HttpResponse<byte[]> response = send("GET", "/v2/health/sideways", null);

        assertEquals(404, response.statusCode());
        assertTrue(json(response).has("error"));
        assertArrayEquals(new String[] {"20004"},
                response.headers().allValues("X-Modelgate-Code").toArray(String[]::new));
    }
}
