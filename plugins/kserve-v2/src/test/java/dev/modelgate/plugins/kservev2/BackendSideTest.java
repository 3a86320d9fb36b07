package dev.modelgate.plugins.kservev2;

import static dev.modelgate.plugins.kservev2.Bodies.binary;
import static dev.modelgate.plugins.kservev2.Bodies.json;
import static dev.modelgate.plugins.kservev2.Bodies.lengthPrefixed;
import static dev.modelgate.plugins.kservev2.Bodies.text;
import static dev.modelgate.plugins.kservev2.Tensors.assertSameTensors;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.modelgate.spi.BackendException;
import dev.modelgate.spi.inference.DataType;
import dev.modelgate.spi.inference.InferenceRequest;
import dev.modelgate.spi.inference.InferenceResponse;
import dev.modelgate.spi.inference.ModelMetadata;
import dev.modelgate.spi.inference.Payload;
import dev.modelgate.spi.inference.RequestedOutput;
import dev.modelgate.spi.inference.Tensor;
import dev.modelgate.spi.testing.CodecExchange;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The gateway as a client of a KServe or Triton server: requests out, answers and metadata in. */
class BackendSideTest {

    private final KServeV2Codec codec = KServeV2Codec.json();
    private final InferenceRequest request = new InferenceRequest("m", null, "r1",
            List.of(Tensor.ofFloats("x", new long[] {1, 2}, 0.5f, 2)),
            List.of(new RequestedOutput("y", Map.of("classification", 2L))), Map.of("priority", 1L));

    @Test
    void aRequestGoesAsPlainJsonWithFlatData() {
        Payload payload = codec.encodeRequest(request);

        assertEquals("application/json", payload.contentType());
        assertEquals("{\"id\":\"r1\",\"parameters\":{\"priority\":1},\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\","
                + "\"shape\":[1,2],\"data\":[0.5,2.0]}],\"outputs\":[{\"name\":\"y\",\"parameters\":"
                + "{\"classification\":2}}]}", text(payload.body(), 0, payload.body().length));
    }

    @Test
    void fp16AndNonUtf8BytesInputsGoInTheBinarySectionAndTheRestAsJson() {
        Tensor half = Tensors.sample(DataType.FP16);
        Tensor blob = Tensor.ofBytes("blob", new long[] {2}, List.of(new byte[] {(byte) 0xC3}, new byte[0]));
        Tensor words = Tensors.sample(DataType.BYTES);
        InferenceRequest mixed = new InferenceRequest("m", null, null, List.of(half, words, blob), List.of(),
                Map.of());

        Payload payload = codec.encodeRequest(mixed);

        assertEquals("application/octet-stream", payload.contentType());
        int headerLength = Integer.parseInt(payload.headers().first("Inference-Header-Content-Length"));
        assertArrayEquals(new byte[] {1, 0, 0, 0, (byte) 0xC3, 0, 0, 0, 0}, Arrays.copyOfRange(payload.body(),
                payload.body().length - 9, payload.body().length), "blob's elements close the body");
        assertEquals(headerLength + 6 + 9, payload.body().length, "FP16's 6 bytes, then blob's 9");
        assertSameTensors(mixed.inputs(), codec.decodeRequest(payload, CodecExchange.call("kserve-v2", "m", null, "infer"), null).inputs());
    }

    @Test
    void aTritonBinaryAnswerDecodes() throws BackendException {
        Payload answer = binary("{\"model_name\":\"m\",\"model_version\":\"1\",\"outputs\":[{\"name\":\"y\","
                + "\"datatype\":\"BYTES\",\"shape\":[2],\"parameters\":{\"binary_data_size\":11}},"
                + "{\"name\":\"z\",\"datatype\":\"INT16\",\"shape\":[1],\"data\":[-3]}]}", lengthPrefixed("ab", "c"));

        InferenceResponse response = codec.decodeResponse(answer, request);

        assertEquals("1", response.version());
        assertNull(response.id());
        assertSameTensors(List.of(Tensor.ofBytes("y", new long[] {2}, List.of(Tensors.utf8("ab"),
                Tensors.utf8("c"))), Tensor.builder("z", DataType.INT16).addLong(-3).build(new long[] {1})),
                response.outputs());
    }

    @Test
    void anAnswerWithoutModelNameIsTheRequestedModels() throws BackendException {
        InferenceResponse response = codec.decodeResponse(json("{\"id\":\"r1\",\"outputs\":[]}"), request);

        assertEquals("m", response.model());
        assertEquals("r1", response.id());
    }

    @Test
    void anAnswersItemErrorsNameTheFailedItemsWithTheirCodes() throws BackendException {
        InferenceResponse response = codec.decodeResponse(json("{\"outputs\":[{\"name\":\"y\",\"datatype\":"
                + "\"FP32\",\"shape\":[3,1],\"data\":[1,0,3]}],\"item_errors\":[{\"index\":1,\"status\":422,"
                + "\"message\":\"not an image\"},{\"index\":2}]}"), request);

        assertEquals(2, response.itemErrors().size());
        assertEquals(1, response.itemErrors().get(0).index());
        assertEquals(40006, response.itemErrors().get(0).error().code());
        assertEquals("not an image", response.itemErrors().get(0).message());
        assertEquals(40005, response.itemErrors().get(1).error().code(), "no status: the backend's fault");
    }

    @ParameterizedTest
    @ValueSource(strings = {"[{\"index\":3}]", "[{\"index\":1},{\"index\":1}]", "[{\"status\":400}]",
        "[{\"index\":-1}]", "{\"index\":1}", "[{\"index\":1,\"status\":\"bad\"}]"})
    void itemErrorsThatDoNotNameAnItemOfTheAnswerOnceAreAProtocolError(String itemErrors) {
        BackendException failure = assertThrows(BackendException.class, () -> codec.decodeResponse(json(
                "{\"outputs\":[{\"name\":\"y\",\"datatype\":\"FP32\",\"shape\":[3,1],\"data\":[1,2,3]}],"
                + "\"item_errors\":" + itemErrors + "}"), request));

        assertEquals(BackendException.Kind.PROTOCOL, failure.kind());
    }

    @ParameterizedTest
    @ValueSource(strings = {"{\"outputs\":[", "{\"model_name\":\"m\"}", "{\"outputs\":[{\"name\":\"y\"}]}",
        "{\"outputs\":[{\"name\":\"y\",\"datatype\":\"BF16\",\"shape\":[1],\"data\":[1]}]}",
        "{\"outputs\":[{\"name\":\"y\",\"datatype\":\"INT8\",\"shape\":[1],\"parameters\":{\"binary_data_size\":1}}]}",
        ""})
    void anAnswerThatIsNotAValidResponseIsAProtocolError(String body) {
        BackendException failure = assertThrows(BackendException.class, () -> codec.decodeResponse(json(body),
                request));

        assertEquals(BackendException.Kind.PROTOCOL, failure.kind());
    }

    @Test
    void metadataEncodesAsTheProtocolsModelMetadata() {
        Payload payload = codec.encodeMetadata(Models.oneInput("x", DataType.FP32, -1, 4), CodecExchange.call("kserve-v2", "m", null, "infer"));

        assertEquals("{\"name\":\"m\",\"versions\":[\"1\"],\"platform\":\"onnxruntime_onnx\",\"inputs\":[{\"name\":"
                + "\"x\",\"datatype\":\"FP32\",\"shape\":[-1,4]}],\"outputs\":[{\"name\":\"y\",\"datatype\":\"FP32\","
                + "\"shape\":[-1,1]}]}", text(payload.body(), 0, payload.body().length));
    }

    @Test
    void metadataWithoutVersionsLeavesThemOut() {
        Payload payload = codec.encodeMetadata(Models.twoInputs(), CodecExchange.call("kserve-v2", "m", null, "infer"));

        String text = text(payload.body(), 0, payload.body().length);
        assertTrue(text.startsWith("{\"name\":\"m\",\"platform\":"), text);
    }

    @Test
    void tritonsMetadataAnswerDecodes() throws BackendException {
        ModelMetadata metadata = codec.decodeMetadata(json("""
                {"name":"simple","versions":["1","2"],"platform":"tensorflow_graphdef",
                 "inputs":[{"name":"INPUT0","datatype":"INT32","shape":[-1,16]}],
                 "outputs":[{"name":"OUTPUT0","datatype":"INT32","shape":[-1,16]}],
                 "properties":{"owner":"x"}}"""), "simple");

        assertEquals(new ModelMetadata("simple", List.of("1", "2"), "tensorflow_graphdef",
                List.of(Models.tensor("INPUT0", DataType.INT32, -1, 16)),
                List.of(Models.tensor("OUTPUT0", DataType.INT32, -1, 16))), metadata);
    }

    @Test
    void metadataRoundTrips() throws BackendException {
        ModelMetadata metadata = Models.twoInputs();

        assertEquals(metadata, codec.decodeMetadata(codec.encodeMetadata(metadata, CodecExchange.call("kserve-v2", "m", null, "infer")), "m"));
        assertEquals(metadata, KServeV2Codec.msgpack().decodeMetadata(KServeV2Codec.msgpack()
                .encodeMetadata(metadata, CodecExchange.call("kserve-v2", "m", null, "infer")), "m"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"{\"name\":\"m\",\"inputs\":[{\"name\":\"x\",\"datatype\":\"BF16\",\"shape\":[1]}]}",
        "{\"name\":\"m\",\"inputs\":[{\"name\":\"x\",\"shape\":[1]}]}", "{\"name\":3}", "[]", "{"})
    void metadataThatCannotBeReadIsAProtocolError(String body) {
        BackendException failure = assertThrows(BackendException.class, () -> codec.decodeMetadata(json(body), "m"));

        assertEquals(BackendException.Kind.PROTOCOL, failure.kind());
    }
}
