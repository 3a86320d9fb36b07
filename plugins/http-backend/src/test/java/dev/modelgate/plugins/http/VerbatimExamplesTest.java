package dev.modelgate.plugins.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import dev.modelgate.kernel.testing.RunningGateway;
import dev.modelgate.kernel.testing.TestBackend;
import dev.modelgate.kernel.testing.TestBackend.Reply;
import java.net.http.HttpResponse;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The request and response examples printed in the TensorFlow Serving REST and Open Inference Protocol documents
 * (shared/reference/protocols.md sections 1 and 3) pass through the gateway byte for byte when the client and the model
 * server speak the same protocol.
 */
class VerbatimExamplesTest {

    /** The OIP's canonical example, with input1's shape made consistent and model_name in the answer. */
    private static final String KSERVE_REQUEST = """
            { "id": "42",
              "inputs": [ {"name": "input0", "shape": [2, 2], "datatype": "UINT32", "data": [1, 2, 3, 4]},
                          {"name": "input1", "shape": [3],    "datatype": "BOOL",   "data": [true, false, true]} ],
              "outputs": [ {"name": "output0"} ] }""";
    private static final String KSERVE_RESPONSE = """
            { "model_name": "mymodel", "id": "42",
              "outputs": [ {"name": "output0", "shape": [3, 2], "datatype": "FP32",
                            "data": [1.0, 1.1, 2.0, 2.1, 3.0, 3.1]} ] }""";

    private static void assertPassesThrough(String backendProtocol, String model, String path, String request,
            String response) throws Exception {
        AtomicReference<String> received = new AtomicReference<>();
        try (TestBackend server = TestBackend.start(call -> {
                    received.set(call.bodyText());
                    return Reply.json(200, response);
                });
                RunningGateway gateway = RunningGateway.start("""
                        backends:
                          server:
                            type: http
                            protocol: %s
                            url: %s
                        routes:
                          - model: %s
                            backend: server
                        """.formatted(backendProtocol, server.url(""), model))) {
            HttpResponse<String> answer = gateway.post(path, "application/json", request);

            assertEquals(200, answer.statusCode(), answer.body());
            assertEquals(request, received.get());
            assertEquals(response, answer.body());
        }
    }

    @Test
    void aFilterThatNeedsTensorsTakesClientsOfTheBackendsOwnDialectOffTheProxyPath() throws Exception {
        AtomicReference<String> received = new AtomicReference<>();
        TensorProbeFilterProvider.SEEN.clear();
        try (TestBackend server = TestBackend.start(call -> {
                    received.set(call.bodyText());
                    return Reply.json(200, KSERVE_RESPONSE);
                });
                RunningGateway gateway = RunningGateway.start("""
                        backends:
                          server:
                            type: http
                            protocol: kserve-v2
                            url: %s
                            filters:
                              - type: tensor-probe
                        routes:
                          - model: mymodel
                            backend: server
                        """.formatted(server.url("")))) {
            HttpResponse<String> answer = gateway.post("/v2/models/mymodel/infer", "application/json",
                    KSERVE_REQUEST);

            assertEquals(200, answer.statusCode(), answer.body());
            assertEquals(1, TensorProbeFilterProvider.SEEN.size());
            assertEquals(2, TensorProbeFilterProvider.SEEN.getFirst().request().inputs().size());
            assertNotEquals(KSERVE_REQUEST, received.get(), "re-encoded, not forwarded");
        }
    }

    @Test
    void theOpenInferenceProtocolsCanonicalExamplePassesThroughVerbatim() throws Exception {
        assertPassesThrough("kserve-v2", "mymodel", "/v2/models/mymodel/infer", KSERVE_REQUEST, KSERVE_RESPONSE);
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "{\"instances\": [\"foo\", \"bar\", \"baz\"]}",
        "{\"instances\": [[[1, 2]], [[3, 4]]]}",
        "{\"instances\": [{\"tag\": \"foo\", \"signal\": [1,2,3,4,5], \"sensor\": [[1,2],[3,4]]},\n"
                + "               {\"tag\": \"bar\", \"signal\": [3,4,1,2,5], \"sensor\": [[4,5],[6,8]]}]}",
        "{\"inputs\": {\"tag\": [\"foo\",\"bar\"], \"signal\": [[1,2,3,4,5],[3,4,1,2,5]], "
                + "\"sensor\": [[[1,2],[3,4]],[[4,5],[6,8]]]}}"})
    void tensorFlowServingsRequestExamplesPassThroughVerbatim(String request) throws Exception {
        assertPassesThrough("tf-serving", "saved_model_half_plus_three",
                "/tfserving/v1/models/saved_model_half_plus_three:predict", request,
                "{ \"predictions\": [3.5, 4.0, 5.5] }");
    }

    @Test
    void tensorFlowServingsRegressExamplePassesThroughVerbatim() throws Exception {
        assertPassesThrough("tf-serving", "m", "/tfserving/v1/models/m:regress",
                "{\"signature_name\":\"tensorflow/serving/regress\",\"examples\":[{\"x\":1.0},{\"x\":2.0}]}",
                "{\"results\":[3.5,4.0]}");
    }
}
