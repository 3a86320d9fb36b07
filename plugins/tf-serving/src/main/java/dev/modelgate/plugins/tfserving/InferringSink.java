package dev.modelgate.plugins.tfserving;

import dev.modelgate.spi.CoreErrors;
import dev.modelgate.spi.RejectionException;
import dev.modelgate.spi.inference.DataType;
import dev.modelgate.spi.inference.Tensor;
import dev.modelgate.spi.inference.TensorBuilder;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Elements of a tensor whose data type nobody told us (no model metadata, or a backend's answer): the type is settled
 * by the values, once all are seen. All booleans make {@link DataType#BOOL}; all strings or binary values
 * {@link DataType#BYTES}; numbers {@link DataType#INT64} when every one is integral (written without a fraction or
 * exponent) and {@link DataType#FP32} otherwise, as TF Serving's float signatures are the common case. An integer
 * beyond {@code long} counts as a fraction-free float. No elements at all make an empty FP32 tensor.
 *
 * <p>Numbers wait in one primitive array: as longs while every one is integral, as double bits from the first
 * fractional one on (the longs seen so far are converted then), so no number is ever boxed.
 */
final class InferringSink implements ElementSink {

    private enum Kind { NONE, BOOL, NUMBER, BYTES }

    private final String name;
    private Kind kind = Kind.NONE;
    private boolean fractional;
    private long[] numbers = new long[16];
    private final List<byte[]> strings = new ArrayList<>();
    private int count;

    InferringSink(String name) {
        this.name = name;
    }

    @Override
    public void addLong(long value) {
        expect(Kind.NUMBER);
        store(fractional ? Double.doubleToRawLongBits(value) : value);
    }

    @Override
    public void addBigInteger(BigInteger value) {
        addDouble(value.doubleValue());
    }

    @Override
    public void addDouble(double value) {
        expect(Kind.NUMBER);
        if (!fractional) {
            fractional = true;
            for (int i = 0; i < count; i++) {
                numbers[i] = Double.doubleToRawLongBits(numbers[i]);
            }
        }
        store(Double.doubleToRawLongBits(value));
    }

    @Override
    public void addBoolean(boolean value) {
        expect(Kind.BOOL);
        store(value ? 1 : 0);
    }

    @Override
    public void addBytes(byte[] value) {
        expect(Kind.BYTES);
        strings.add(value);
        count++;
    }

    @Override
    public Tensor build(long[] shape) {
        DataType type = switch (kind) {
            case BOOL -> DataType.BOOL;
            case BYTES -> DataType.BYTES;
            case NUMBER -> fractional ? DataType.FP32 : DataType.INT64;
            case NONE -> DataType.FP32;
        };
        TensorBuilder builder = Tensor.builder(name, type);
        for (int i = 0; i < count; i++) {
            switch (type) {
                case BOOL -> builder.addBoolean(numbers[i] != 0);
                case BYTES -> builder.addBytes(strings.get(i));
                case INT64 -> builder.addLong(numbers[i]);
                default -> builder.addDouble(Double.longBitsToDouble(numbers[i]));
            }
        }
        return builder.build(shape);
    }

    private void expect(Kind next) {
        if (kind == Kind.NONE) {
            kind = next;
        } else if (kind != next) {
            throw new RejectionException(CoreErrors.INVALID_TENSOR_VALUE, "tensor '" + name + "' mixes "
                    + describe(kind) + " and " + describe(next) + "; its values must all be of one type");
        }
    }

    private static String describe(Kind kind) {
        return switch (kind) {
            case BOOL -> "booleans";
            case NUMBER -> "numbers";
            default -> "strings";
        };
    }

    private void store(long value) {
        if (count == numbers.length) {
            numbers = Arrays.copyOf(numbers, count * 2);
        }
        numbers[count++] = value;
    }
}
