package dev.modelgate.plugins.kservev2;

import dev.modelgate.spi.inference.DataType;
import dev.modelgate.spi.inference.ModelMetadata;
import dev.modelgate.spi.inference.TensorMetadata;
import java.util.Arrays;
import java.util.List;

/** Model metadata for tests. */
final class Models {

    private Models() {
    }

    static ModelMetadata oneInput(String name, DataType type, long... shape) {
        return new ModelMetadata("m", List.of("1"), "onnxruntime_onnx", List.of(tensor(name, type, shape)),
                List.of(tensor("y", DataType.FP32, -1, 1)));
    }

    static ModelMetadata twoInputs() {
        return new ModelMetadata("m", List.of(), "onnxruntime_onnx",
                List.of(tensor("a", DataType.FP32, -1, 2), tensor("b", DataType.FP32, -1, 2)),
                List.of(tensor("y", DataType.FP32, -1)));
    }

    static TensorMetadata tensor(String name, DataType type, long... shape) {
        return new TensorMetadata(name, type, Arrays.stream(shape).boxed().toList());
    }
}
