package dev.modelgate.plugins.onnx;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.TensorInfo;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Arrays;

/** A model input or output as the model declares it: name, element type and shape, with -1 for a free dimension. */
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
            throw new IllegalArgumentException("'" + node.getName() + "' has element type " + tensor.type
                    + "; the onnx backend serves float, double, int32 and int64 tensors");
        }
        return new TensorSpec(node.getName(), type, tensor.getShape());
    }

    String name() {
        return name;
    }

    ElementType type() {
        return type;
    }

    int rank() {
        return shape.length;
    }

    /** The declared size of dimension {@code index}, or -1 when any size goes. */
    long dimension(int index) {
        return shape[index];
    }

    /** Whether {@code actual} fits the declared dimensions from {@code from} on: same count, fixed sizes equal. */
    boolean fits(long[] actual, int from) {
        if (actual.length != shape.length - from) {
            return false;
        }
        for (int i = 0; i < actual.length; i++) {
            long declared = shape[from + i];
            if (declared >= 0 && declared != actual[i]) {
                return false;
            }
        }
        return true;
    }

    /** The declared shape from dimension {@code from} on, as error details show it: {@code [-1, 4]}. */
    String shapeText(int from) {
        return Arrays.toString(Arrays.copyOfRange(shape, from, shape.length));
    }

    /** {@code {"name": ..., "datatype": ..., "shape": [...]}}, as KServe v2 metadata describes a tensor. */
    ObjectNode toMetadata() {
        ObjectNode metadata = JsonNodeFactory.instance.objectNode()
                .put("name", name)
                .put("datatype", type.datatype());
        Arrays.stream(shape).forEach(metadata.putArray("shape")::add);
        return metadata;
    }
}
