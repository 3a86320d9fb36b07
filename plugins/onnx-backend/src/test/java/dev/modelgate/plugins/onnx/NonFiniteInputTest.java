package dev.modelgate.plugins.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.modelgate.kernel.testing.RunningGateway;
import dev.modelgate.plugins.kservev2.protobuf.inference.InferTensorContents;
import dev.modelgate.plugins.kservev2.protobuf.inference.ModelInferRequest;
import java.io.ByteArrayOutputStream;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * NaN and infinite inputs to a float tensor are refused (400, 20040) whatever their spelling or encoding, instead of a
 * successful answer of NaN probabilities; a route that declares {@code accepts-non-finite: true} passes them on.
 */
class NonFiniteInputTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient CLIENT = HttpClient.newHttpClient();
    private static RunningGateway gateway;

    @BeforeAll
    static void start() throws Exception {
        gateway = RunningGateway.start("""
                server:
                  address: 127.0.0.1
                backends:
                  demo:
                    type: onnx
                    model: classpath:models/demo.onnx
                routes:
                  - model: demo
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

    private static HttpResponse<byte[]> post(String path, byte[] body, String... headers) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(gateway.uri(path))
                .POST(HttpRequest.BodyPublishers.ofByteArray(body));
        for (int i = 0; i < headers.length; i += 2) {
            request.header(headers[i], headers[i + 1]);
        }
        return CLIENT.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    private static HttpResponse<byte[]> postJson(String path, String body) throws Exception {
        return post(path, body.getBytes(StandardCharsets.UTF_8), "Content-Type", "application/json");
    }

    private static void assertRefused(HttpResponse<byte[]> response, String detail) throws Exception {
        String text = new String(response.body(), StandardCharsets.UTF_8);
        assertEquals(400, response.statusCode(), text);
        assertEquals("20040", response.headers().firstValue("X-Modelgate-Code").orElse(null), text);
        JsonNode body = JSON.readTree(text);
        String message = body.has("message") ? body.get("message").asText() : body.get("error").asText();
        assertEquals("tensor value is NaN or infinite: " + detail, message);
    }

    @Test
    void aNumberBeyondDoubleOnTheGatewayApiIsRefused() throws Exception {
        assertRefused(postJson("/v1/models/demo:predict", "{\"instances\":[[1e999,1,2,3]]}"),
                "tensor 'features' element 0 is Infinity; this model takes finite numbers only");
    }

    @Test
    void theModelServersNanAndInfinitySpellingsAreRefused() throws Exception {
        assertRefused(postJson("/tfserving/v1/models/demo:predict", "{\"instances\":[[5.1,NaN,1.4,0.2]]}"),
                "tensor 'features' element 1 is NaN; this model takes finite numbers only");
        assertRefused(postJson("/v2/models/demo/infer", "{\"inputs\":[{\"name\":\"features\",\"shape\":[1,4],"
                        + "\"datatype\":\"FP32\",\"data\":[5.1,3.5,-Infinity,0.2]}]}"),
                "tensor 'features' element 2 is -Infinity; this model takes finite numbers only");
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

        assertRefused(post("/v2/models/demo/infer", body.toByteArray(), "Content-Type", "application/octet-stream",
                "Inference-Header-Content-Length", Integer.toString(header.length)),
                "tensor 'features' element 3 is Infinity; this model takes finite numbers only");
    }

    @Test
    void protobufAndMessagePackValuesAreRefusedAlike() throws Exception {
        ModelInferRequest protobuf = ModelInferRequest.newBuilder()
                .addInputs(ModelInferRequest.InferInputTensor.newBuilder().setName("features").setDatatype("FP32")
                        .addShape(1).addShape(4).setContents(InferTensorContents.newBuilder()
                                .addFp32Contents(Float.NaN).addFp32Contents(1).addFp32Contents(2)
                                .addFp32Contents(3)))
                .build();
        assertRefused(post("/v2/models/demo/infer", protobuf.toByteArray(), "Content-Type", "application/x-protobuf"),
                "tensor 'features' element 0 is NaN; this model takes finite numbers only");

        byte[] msgpack = PythonMsgpack.pack("{'instances': [[5.1, 3.5, 1.4, float('inf')]]}");
        assertRefused(post("/v1/models/demo:predict", msgpack, "Content-Type", "application/msgpack",
                "Accept", "application/json"),
                "tensor 'features' element 3 is Infinity; this model takes finite numbers only");
    }

    @Test
    void aRouteThatAcceptsNonFiniteValuesPassesThemToTheModel() throws Exception {
        HttpResponse<byte[]> response = postJson("/tfserving/v1/models/lenient:predict",
                "{\"instances\":[[NaN,3.5,1.4,0.2]]}");

        assertEquals(200, response.statusCode(), new String(response.body(), StandardCharsets.UTF_8));
    }

    @Test
    void finiteValuesAreServedAsBefore() throws Exception {
        HttpResponse<byte[]> response = postJson("/v1/models/demo:predict", "{\"instances\":[[6.3,3.3,6.0,2.5]]}");

        assertEquals(200, response.statusCode());
        assertEquals(2, JSON.readTree(response.body()).get("data").get("predictions").get(0).get("label").asInt());
    }
}
