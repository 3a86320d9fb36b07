package dev.modelgate.plugins.onnx;

import java.nio.ByteBuffer;

/**
 * A tensor's contents on the Java side, on its way into or out of the model.
 *
 * @param name the model's name for the tensor
 * @param type the element type
 * @param shape the actual shape, every dimension known
 * @param data the elements in row-major order, in native byte order, from position 0
 */
record TensorValue(String name, ElementType type, long[] shape, ByteBuffer data) {

    /** The size of the first dimension, or -1 for a scalar. */
    long batchSize() {
        return shape.length == 0 ? -1 : shape[0];
    }
}
