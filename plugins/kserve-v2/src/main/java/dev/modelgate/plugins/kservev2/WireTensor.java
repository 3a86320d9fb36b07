package dev.modelgate.plugins.kservev2;

import dev.modelgate.spi.inference.DataType;
import dev.modelgate.spi.inference.Tensor;

/**
 * One entry of a message's {@code inputs} or {@code outputs} as read from the JSON (or MessagePack) header: either
 * complete, its {@code data} given inline, or waiting for {@code binarySize} bytes of the binary section.
 *
 * @param tensor the tensor when its data came inline, else {@code null}
 * @param binarySize the {@code binary_data_size} parameter when the data is in the binary section, else -1
 */
record WireTensor(String name, DataType type, long[] shape, Tensor tensor, long binarySize) {

    static WireTensor inline(Tensor tensor) {
        return new WireTensor(tensor.name(), tensor.type(), tensor.shape(), tensor, -1);
    }

    static WireTensor binary(String name, DataType type, long[] shape, long binarySize) {
        return new WireTensor(name, type, shape, null, binarySize);
    }

    boolean isBinary() {
        return tensor == null;
    }
}
