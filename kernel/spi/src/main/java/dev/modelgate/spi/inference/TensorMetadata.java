package dev.modelgate.spi.inference;

import java.util.List;

/**
 * A model input or output as its metadata describes it.
 *
 * @param shape the dimensions, -1 for a variable one (the batch dimension, typically)
 */
public record TensorMetadata(String name, DataType type, List<Long> shape) {

    public TensorMetadata {
        shape = List.copyOf(shape);
    }
}
