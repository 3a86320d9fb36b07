package dev.modelgate.spi.inference;

import dev.modelgate.spi.CoreErrors;
import dev.modelgate.spi.RejectionException;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * Appends the elements of one tensor as a decoder meets them, converting each to the tensor's data type and refusing
 * values that do not fit it, then {@linkplain #build checks them against the shape}. Not thread-safe: one decoder,
 * one tensor.
 */
public final class TensorBuilder {

    private static final BigInteger UINT64_MAX = BigInteger.ONE.shiftLeft(64).subtract(BigInteger.ONE);

    private final String name;
    private final DataType type;
    private ByteBuffer data;
    private final List<byte[]> elements;
    private int count;

    TensorBuilder(String name, DataType type) {
        this.name = name;
        this.type = type;
        this.data = type == DataType.BYTES ? null : ByteBuffer.allocate(64 * type.byteSize())
                .order(ByteOrder.LITTLE_ENDIAN);
        this.elements = type == DataType.BYTES ? new ArrayList<>() : null;
    }

    public DataType type() {
        return type;
    }

    /** Elements appended so far. */
    public int count() {
        return count;
    }

    /** Appends an integral value; floating-point tensors take it as a number. */
    public TensorBuilder addLong(long value) {
        switch (type) {
            case BOOL, BYTES -> throw invalid("the integer " + value);
            case FP16, FP32, FP64 -> {
                return addDouble(value);
            }
            default -> {
                if (!fits(value)) {
                    throw invalid("the integer " + value + ", which is out of range");
                }
                ensure(8);
                putInteger(value);
            }
        }
        count++;
        return this;
    }

    /** Appends an integral value beyond the range of {@code long} (a large UINT64). */
    public TensorBuilder addBigInteger(BigInteger value) {
        if (value.bitLength() < 64) {
            return addLong(value.longValue());
        }
        if (type.isFloatingPoint()) {
            return addDouble(value.doubleValue());
        }
        if (type != DataType.UINT64 || value.signum() < 0 || value.compareTo(UINT64_MAX) > 0) {
            throw invalid("the integer " + value + ", which is out of range");
        }
        room().putLong(value.longValue());
        count++;
        return this;
    }

    /** Appends a number; integer tensors take it only when it has no fraction and fits. */
    public TensorBuilder addDouble(double value) {
        switch (type) {
            case FP16 -> room().putShort(half(value));
            case FP32 -> room().putFloat(single(value));
            case FP64 -> room().putDouble(value);
            case BOOL, BYTES -> throw invalid("the number " + value);
            default -> {
                if (value != Math.rint(value) || Double.isInfinite(value)) {
                    throw invalid("the number " + value + ", which is not an integer");
                }
                if (value < -0x1p63 || value >= 0x1p64 || value >= 0x1p63 && type != DataType.UINT64) {
                    throw invalid("the number " + value + ", which is out of range");
                }
                // Past 2^63 only UINT64 is left, and a long cannot hold it: through BigInteger.
                return value >= 0x1p63 ? addBigInteger(new java.math.BigDecimal(value).toBigInteger())
                        : addLong((long) value);
            }
        }
        count++;
        return this;
    }

    /**
     * {@code value} rounded to single precision; refused when a finite value rounds to infinity (a number that
     * merely prints past {@link Float#MAX_VALUE}, as its own decimal form does, rounds back to it).
     */
    private float single(double value) {
        float rounded = (float) value;
        if (Double.isFinite(value) && Float.isInfinite(rounded)) {
            throw invalid("the number " + value + ", which is out of range");
        }
        return rounded;
    }

    /** {@code value} rounded to half precision, refused in the same way. */
    private short half(double value) {
        short rounded = Float.floatToFloat16(single(value));
        if (Double.isFinite(value) && Float.isInfinite(Float.float16ToFloat(rounded))) {
            throw invalid("the number " + value + ", which is out of range");
        }
        return rounded;
    }

    public TensorBuilder addBoolean(boolean value) {
        if (type != DataType.BOOL) {
            throw invalid("the boolean " + value);
        }
        room().put((byte) (value ? 1 : 0));
        count++;
        return this;
    }

    /** Appends one element of a BYTES tensor. The array is kept, not copied. */
    public TensorBuilder addBytes(byte[] value) {
        if (type != DataType.BYTES) {
            throw invalid("a string");
        }
        elements.add(value);
        count++;
        return this;
    }

    /** Appends raw little-endian bytes holding whole elements of a fixed-size type. */
    public TensorBuilder addRaw(ByteBuffer raw) {
        if (type == DataType.BYTES || raw.remaining() % type.byteSize() != 0) {
            throw new IllegalArgumentException("raw data must hold whole " + type + " elements");
        }
        int added = raw.remaining() / type.byteSize();
        ensure(raw.remaining());
        data.put(raw);
        count += added;
        return this;
    }

    /**
     * The tensor.
     *
     * @throws RejectionException with {@link CoreErrors#TENSOR_SHAPE_MISMATCH} when the elements appended are not
     *     exactly as many as {@code shape} calls for
     */
    public Tensor build(long[] shape) {
        int expected = Tensor.elementCount(name, shape);
        if (expected != count) {
            throw Tensor.mismatch(name, shape, count + " elements");
        }
        if (type == DataType.BYTES) {
            return Tensor.ofBytes(name, shape, elements);
        }
        return Tensor.of(name, type, shape, data.flip());
    }

    private void putInteger(long value) {
        switch (type.byteSize()) {
            case 1 -> data.put((byte) value);
            case 2 -> data.putShort((short) value);
            case 4 -> data.putInt((int) value);
            default -> data.putLong(value);
        }
    }

    private boolean fits(long value) {
        return switch (type) {
            case INT8 -> value >= Byte.MIN_VALUE && value <= Byte.MAX_VALUE;
            case INT16 -> value >= Short.MIN_VALUE && value <= Short.MAX_VALUE;
            case INT32 -> value >= Integer.MIN_VALUE && value <= Integer.MAX_VALUE;
            case UINT8 -> value >= 0 && value <= 0xFF;
            case UINT16 -> value >= 0 && value <= 0xFFFF;
            case UINT32 -> value >= 0 && value <= 0xFFFF_FFFFL;
            case UINT64 -> value >= 0;
            default -> true;
        };
    }

    /** The buffer, with room for at least one more element. */
    private ByteBuffer room() {
        ensure(8);
        return data;
    }

    private void ensure(int bytes) {
        if (data.remaining() < bytes) {
            long capacity = Math.max((long) data.capacity() * 2, (long) data.position() + bytes);
            if (capacity > Integer.MAX_VALUE - 8) {
                throw new RejectionException(CoreErrors.TENSOR_SHAPE_MISMATCH,
                        "tensor '" + name + "' holds more data than a tensor may");
            }
            ByteBuffer larger = ByteBuffer.allocate((int) capacity).order(ByteOrder.LITTLE_ENDIAN);
            data.flip();
            larger.put(data);
            data = larger;
        }
    }

    private RejectionException invalid(String what) {
        return new RejectionException(CoreErrors.INVALID_TENSOR_VALUE,
                "tensor '" + name + "' is " + type + " and cannot hold " + what);
    }
}
