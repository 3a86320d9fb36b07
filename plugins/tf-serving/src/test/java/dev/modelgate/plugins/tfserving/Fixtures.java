package dev.modelgate.plugins.tfserving;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.modelgate.spi.ErrorCode;
import dev.modelgate.spi.Exchange;
import dev.modelgate.spi.RejectionException;
import dev.modelgate.spi.inference.DataType;
import dev.modelgate.spi.inference.InferenceCodec;
import dev.modelgate.spi.inference.InferenceRequest;
import dev.modelgate.spi.inference.ModelMetadata;
import dev.modelgate.spi.inference.Payload;
import dev.modelgate.spi.inference.Tensor;
import dev.modelgate.spi.inference.TensorMetadata;
import dev.modelgate.spi.testing.CodecExchange;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.function.Executable;

/** The codecs as the gateway finds them, and small helpers to feed and read them. */
final class Fixtures {

    static final InferenceCodec JSON = codec("application/json");
    static final InferenceCodec MSGPACK = codec("application/msgpack");

    private Fixtures() {
    }

    private static InferenceCodec codec(String mediaType) {
        return new TfServingCodecProvider().codecs().stream()
                .filter(codec -> codec.mediaType().equals(mediaType)).findFirst().orElseThrow();
    }

    static Payload json(String body) {
        return new Payload("application/json; charset=utf-8", body.getBytes(StandardCharsets.UTF_8));
    }

    static String text(Payload payload) {
        return new String(payload.body(), StandardCharsets.UTF_8);
    }

    static InferenceRequest decode(String body, Exchange exchange, ModelMetadata metadata) {
        return JSON.decodeRequest(json(body), exchange, metadata);
    }

    static InferenceRequest decode(String body) {
        return decode(body, CodecExchange.call(TfServingCodec.DIALECT, "m", null, "predict"), null);
    }

    /** Metadata with FP32 inputs of these names, each of shape [-1]. */
    static ModelMetadata floatInputs(String... names) {
        List<TensorMetadata> inputs = Arrays.stream(names)
                .map(name -> new TensorMetadata(name, DataType.FP32, List.of(-1L))).toList();
        return new ModelMetadata("m", List.of("1"), "tensorflow", inputs,
                List.of(new TensorMetadata("y", DataType.FP32, List.of(-1L))));
    }

    static void assertRejected(ErrorCode code, Executable call) {
        RejectionException e = assertThrows(RejectionException.class, call);
        assertEquals(code, e.errorCode(), e.getMessage());
    }

    static void assertTensor(Tensor tensor, String name, DataType type, long... shape) {
        assertEquals(name, tensor.name());
        assertEquals(type, tensor.type());
        assertEquals(Arrays.toString(shape), Arrays.toString(tensor.shape()));
    }

    static List<Double> numbers(Tensor tensor) {
        List<Double> values = new ArrayList<>();
        for (int i = 0; i < tensor.elementCount(); i++) {
            values.add(tensor.doubleAt(i));
        }
        return values;
    }

    static List<String> strings(Tensor tensor) {
        List<String> values = new ArrayList<>();
        for (int i = 0; i < tensor.elementCount(); i++) {
            values.add(new String(TensorWriter.bytesAt(tensor, i), StandardCharsets.UTF_8));
        }
        return values;
    }
}
