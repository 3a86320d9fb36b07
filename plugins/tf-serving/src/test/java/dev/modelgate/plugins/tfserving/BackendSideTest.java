package dev.modelgate.plugins.tfserving;

import static dev.modelgate.plugins.tfserving.Fixtures.JSON;
import static dev.modelgate.plugins.tfserving.Fixtures.assertTensor;
import static dev.modelgate.plugins.tfserving.Fixtures.json;
import static dev.modelgate.plugins.tfserving.Fixtures.numbers;
import static dev.modelgate.plugins.tfserving.Fixtures.text;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.modelgate.spi.BackendException;
import dev.modelgate.spi.inference.CodecProvider;
import dev.modelgate.spi.inference.DataType;
import dev.modelgate.spi.inference.InferenceRequest;
import dev.modelgate.spi.inference.InferenceResponse;
import dev.modelgate.spi.inference.RequestedOutput;
import dev.modelgate.spi.inference.Tensor;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import org.junit.jupiter.api.Test;

class BackendSideTest {

    private static InferenceRequest request(List<Tensor> inputs, List<RequestedOutput> outputs) {
        return new InferenceRequest("m", "1", "id-1", inputs, outputs, Map.of("signature_name", "serving_default"));
    }

    @Test
    void requestsAreColumnarWithTheirSignatureName() {
        InferenceRequest request = request(List.of(Tensor.ofFloats("x", new long[] {2, 1}, 1, 2),
                Tensor.ofFloats("z", new long[] {}, 3)), List.of());
        assertEquals("{\"signature_name\":\"serving_default\",\"inputs\":{\"x\":[[1.0],[2.0]],\"z\":3.0}}",
                text(JSON.encodeRequest(request)));
    }

    @Test
    void aSingleUnnamedInputIsSentAsABareValue() {
        InferenceRequest request = new InferenceRequest("m", null, null,
                List.of(Tensor.ofFloats("", new long[] {2}, 1, 2)), List.of(), Map.of());
        assertEquals("{\"inputs\":[1.0,2.0]}", text(JSON.encodeRequest(request)));
    }

    @Test
    void namedOutputsAreDecodedWithInferredTypes() throws BackendException {
        InferenceResponse response = JSON.decodeResponse(json("{\"outputs\": {\"y\": [[1.5], [2]], \"n\": [1, 2]}}"),
                request(List.of(), List.of()));
        assertEquals("m", response.model());
        assertEquals("id-1", response.id());
        assertTensor(response.output("y"), "y", DataType.FP32, 2, 1);
        assertTensor(response.output("n"), "n", DataType.INT64, 2);
    }

    @Test
    void anUnnamedOutputTakesTheNameOfTheOneRequestedOutput() throws BackendException {
        InferenceResponse response = JSON.decodeResponse(json("{\"outputs\": [3.5, 4.0]}"),
                request(List.of(), List.of(new RequestedOutput("y"))));
        assertTensor(response.outputs().getFirst(), "y", DataType.FP32, 2);
        assertEquals(List.of(3.5, 4.0), numbers(response.outputs().getFirst()));
    }

    @Test
    void anUnnamedOutputIsOutput0OtherwiseAndPredictionsStackRows() throws BackendException {
        InferenceResponse response = JSON.decodeResponse(json("{\"predictions\": [[1, 2], [3, 4]]}"),
                request(List.of(), List.of()));
        assertTensor(response.outputs().getFirst(), "output_0", DataType.INT64, 2, 2);
        InferenceResponse named = JSON.decodeResponse(json("{\"predictions\": [{\"a\": 1.5}, {\"a\": 2.5}]}"),
                request(List.of(), List.of()));
        assertTensor(named.output("a"), "a", DataType.FP32, 2);
    }

    @Test
    void malformedAnswersAreProtocolFailures() {
        for (String body : List.of("{\"outputs\": [1, ", "{\"error\": \"Servable not found\"}", "[1]",
                "{\"outputs\": [[1], 2]}", "{\"outputs\": [1]} x")) {
            BackendException e = assertThrows(BackendException.class,
                    () -> JSON.decodeResponse(json(body), request(List.of(), List.of())));
            assertEquals(BackendException.Kind.PROTOCOL, e.kind(), body);
        }
    }

    @Test
    void theProviderIsFoundByTheServiceLoaderWithBothCodecs() {
        CodecProvider provider = ServiceLoader.load(CodecProvider.class).stream()
                .map(ServiceLoader.Provider::get).filter(p -> p.type().equals("tf-serving")).findFirst().orElseThrow();
        assertEquals(List.of("application/json", "application/msgpack"),
                provider.codecs().stream().map(codec -> codec.mediaType()).toList());
    }
}
