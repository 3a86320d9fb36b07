package dev.modelgate.plugins.tfserving;

import dev.modelgate.spi.inference.Tensor;
import dev.modelgate.spi.inference.TensorBuilder;
import java.math.BigInteger;

/** Elements of a tensor whose data type is known: each goes straight into a {@link TensorBuilder}, which converts it. */
final class TypedSink implements ElementSink {

    private final TensorBuilder builder;

    TypedSink(TensorBuilder builder) {
        this.builder = builder;
    }

    @Override
    public void addLong(long value) {
        builder.addLong(value);
    }

    @Override
    public void addBigInteger(BigInteger value) {
        builder.addBigInteger(value);
    }

    @Override
    public void addDouble(double value) {
        builder.addDouble(value);
    }

    @Override
    public void addBoolean(boolean value) {
        builder.addBoolean(value);
    }

    @Override
    public void addBytes(byte[] value) {
        builder.addBytes(value);
    }

    @Override
    public Tensor build(long[] shape) {
        return builder.build(shape);
    }
}
