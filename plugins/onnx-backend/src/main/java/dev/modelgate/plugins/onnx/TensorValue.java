package dev.modelgate.plugins.onnx;

import java.nio.ByteBuffer;

/**
 * One model input ready for ONNX Runtime.
 *
 * @param name the model's name for the input
 * @param type the model's element type for it
 * @param shape the actual shape, every dimension known
 * @param data the elements, row-major, in a direct buffer in native byte order, from position 0
 */
record TensorValue(String name, ElementType type, long[] shape, ByteBuffer data) {
}
