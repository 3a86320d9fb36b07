package dev.modelgate.plugins.tfserving;

import dev.modelgate.spi.inference.DataType;
import dev.modelgate.spi.inference.Tensor;
import java.math.BigInteger;

/**
 * Where a reader puts the elements of one tensor as it meets them, in row-major order. Not thread-safe: one reader,
 * one tensor.
 */
interface ElementSink {

    void addLong(long value);

    /** An integral value beyond the range of {@code long}. */
    void addBigInteger(BigInteger value);

    void addDouble(double value);

    void addBoolean(boolean value);

    /** One string or binary element; the array is kept, not copied. */
    void addBytes(byte[] value);

    /**
     * The tensor of the elements added so far.
     *
     * @throws dev.modelgate.spi.RejectionException with a code of domain 2 when the elements do not fit the shape or
     *     their data type cannot be settled
     */
    Tensor build(long[] shape);

    /**
     * A sink for a tensor of {@code type}, or, when {@code type} is {@code null}, one that infers the type from the
     * values (see {@link InferringSink}).
     */
    static ElementSink of(String name, DataType type) {
        return type == null ? new InferringSink(name) : new TypedSink(Tensor.builder(name, type));
    }
}
