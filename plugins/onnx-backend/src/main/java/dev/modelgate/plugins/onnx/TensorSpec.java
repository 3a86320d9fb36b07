package dev.modelgate.plugins.onnx;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.TensorInfo;
import dev.modelgate.spi.inference.TensorMetadata;
import java.util.Arrays;

/**
 * A model input or output as the model declares it: name, element type and shape, with -1 for a free (symbolic)
 * dimension. Immutable.
 */
final class TensorSpec {

    private final String name;
    private final ElementType type;
    private final long[] shape;

    private TensorSpec(String name, ElementType type, long[] shape) {
        this.name = name;
        this.type = type;
        this.shape = shape;
    }

    /**
     * The spec of one of a model's inputs or outputs.
     *
     * @throws IllegalArgumentException when it is not a tensor, or a tensor of a type the backend does not serve
     */
    static TensorSpec of(NodeInfo node) {
        if (!(node.getInfo() instanceof TensorInfo tensor)) {
            throw new IllegalArgumentException("'" + node.getName() + "' is not a tensor but " + node.getInfo()
                    + "; the onnx backend serves tensor inputs and outputs only");
        }
        ElementType type = ElementType.of(tensor.type);
        if (type == null) {
            // ONNX Runtime's own name of the type, without its enum prefix: STRING, BFLOAT16, ...
            String name = tensor.onnxType.name().replace("ONNX_TENSOR_ELEMENT_DATA_TYPE_", "");
            throw new IllegalArgumentException("'" + node.getName() + "' has element type " + name
                    + "; the onnx backend serves " + ElementType.SERVED);
        }
        return new TensorSpec(node.getName(), type, tensor.getShape());
    }

    String name() {
        return name;
    }

    ElementType type() {
        return type;
    }

    /** Whether {@code actual} fits the declared shape: as many dimensions, the fixed ones equal. */
    boolean fits(long[] actual) {
        if (actual.length != shape.length) {
            return false;
        }
        for (int i = 0; i < actual.length; i++) {
            if (shape[i] >= 0 && shape[i] != actual[i]) {
                return false;
            }
        }
        return true;
    }

    /** The declared shape as error details show it: {@code [-1, 4]}. */
    String shapeText() {
        return Arrays.toString(shape);
    }

    TensorMetadata toMetadata() {
        return new TensorMetadata(name, type.dataType(), Arrays.stream(shape).boxed().toList());
    }

    /** As error details and logs show it: {@code features FP32[-1, 4]}. */
    @Override
    public String toString() {
        return name + " " + type + shapeText();
    }
}
