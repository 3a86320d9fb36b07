package dev.modelgate.spi.inference;

import dev.modelgate.spi.CoreErrors;
import dev.modelgate.spi.RejectionException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A named tensor: data type, shape and data, held compactly. Fixed-size types keep their elements in one
 * little-endian, row-major buffer (the layout of the Open Inference Protocol's binary and raw forms, so those travel
 * without conversion); {@link DataType#BYTES} keeps one byte array per element.
 *
 * <p>Immutable and thread-safe: the factories check that the data holds exactly the elements the shape calls for and
 * keep a read-only view; accessors return read-only views or copies.
 */
public final class Tensor {

    /** The most elements one tensor holds: one Java array's worth. */
    private static final long MAX_ELEMENTS = Integer.MAX_VALUE - 8;

    private final String name;
    private final DataType type;
    private final long[] shape;
    private final int elementCount;
    private final ByteBuffer data;
    private final List<byte[]> elements;

    private Tensor(String name, DataType type, long[] shape, int elementCount, ByteBuffer data,
            List<byte[]> elements) {
        this.name = name;
        this.type = type;
        this.shape = shape;
        this.elementCount = elementCount;
        this.data = data;
        this.elements = elements;
    }

    /**
     * A tensor of a fixed-size type over {@code data}'s remaining bytes, little-endian (the buffer's own byte order is
     * ignored). The bytes are not copied: the caller must not change them afterwards.
     *
     * @throws RejectionException with {@link CoreErrors#TENSOR_SHAPE_MISMATCH} when the shape is invalid or the data
     *     holds another number of elements
     */
    public static Tensor of(String name, DataType type, long[] shape, ByteBuffer data) {
        if (type == DataType.BYTES) {
            throw new IllegalArgumentException("BYTES tensors hold elements, not a buffer: use ofBytes");
        }
        int count = elementCount(name, shape);
        long expected = (long) count * type.byteSize();
        if (data.remaining() != expected) {
            throw mismatch(name, shape, (data.remaining() / type.byteSize()) + " elements ("
                    + data.remaining() + " bytes of " + type + ")");
        }
        ByteBuffer view = data.slice().asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
        return new Tensor(name, type, shape.clone(), count, view, null);
    }

    /**
     * A {@link DataType#BYTES} tensor. The arrays are not copied: the caller must not change them afterwards.
     *
     * @throws RejectionException with {@link CoreErrors#TENSOR_SHAPE_MISMATCH} when the shape is invalid or another
     *     number of elements is given
     */
    public static Tensor ofBytes(String name, long[] shape, List<byte[]> elements) {
        int count = elementCount(name, shape);
        if (elements.size() != count) {
            throw mismatch(name, shape, elements.size() + " elements");
        }
        return new Tensor(name, DataType.BYTES, shape.clone(), count, null, List.copyOf(elements));
    }

    /** An FP32 tensor of {@code values}, for tests and in-process models. */
    public static Tensor ofFloats(String name, long[] shape, float... values) {
        ByteBuffer data = ByteBuffer.allocate(values.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        data.asFloatBuffer().put(values);
        return of(name, DataType.FP32, shape, data);
    }

    /** A builder that appends elements one by one, converting them to {@code type}, for decoders of text formats. */
    public static TensorBuilder builder(String name, DataType type) {
        return new TensorBuilder(name, type);
    }

    /**
     * The number of elements {@code shape} calls for.
     *
     * @throws RejectionException with {@link CoreErrors#TENSOR_SHAPE_MISMATCH} for a negative dimension or more
     *     elements than one tensor may hold
     */
    static int elementCount(String name, long[] shape) {
        for (long dimension : shape) {
            if (dimension < 0) {
                throw new RejectionException(CoreErrors.TENSOR_SHAPE_MISMATCH, "tensor '" + name + "' has shape "
                        + Arrays.toString(shape) + " with a negative dimension");
            }
        }
        long count = product(shape);
        if (count > MAX_ELEMENTS) {
            throw new RejectionException(CoreErrors.TENSOR_SHAPE_MISMATCH, "tensor '" + name + "' has shape "
                    + Arrays.toString(shape) + ", more elements than a tensor may hold");
        }
        return (int) count;
    }

    static RejectionException mismatch(String name, long[] shape, String actual) {
        long count = product(shape);
        return new RejectionException(CoreErrors.TENSOR_SHAPE_MISMATCH, "tensor '" + name + "' has shape "
                + Arrays.toString(shape) + ", which calls for " + (count > MAX_ELEMENTS ? "too many" : count)
                + " elements, but its data holds " + actual);
    }

    /**
     * The product of non-negative dimensions, or {@code MAX_ELEMENTS + 1} once it passes {@link #MAX_ELEMENTS}: checked
     * before each multiplication, so a shape such as [3, 3074457345618258603] cannot wrap around to a small count.
     */
    private static long product(long[] shape) {
        long count = 1;
        for (long dimension : shape) {
            if (dimension == 0) {
                return 0;
            }
        }
        for (long dimension : shape) {
            if (count > MAX_ELEMENTS / dimension) {
                return MAX_ELEMENTS + 1;
            }
            count *= dimension;
        }
        return count;
    }

    public String name() {
        return name;
    }

    public DataType type() {
        return type;
    }

    /** A copy of the shape; the whole batch is included, as the Open Inference Protocol counts it. */
    public long[] shape() {
        return shape.clone();
    }

    public int rank() {
        return shape.length;
    }

    /** Dimension {@code index} of the shape. */
    public long dimension(int index) {
        return shape[index];
    }

    public int elementCount() {
        return elementCount;
    }

    /**
     * The elements of a fixed-size type as a read-only little-endian buffer, positioned at 0.
     *
     * @throws IllegalStateException for a {@link DataType#BYTES} tensor
     */
    public ByteBuffer data() {
        if (data == null) {
            throw new IllegalStateException("tensor '" + name + "' is BYTES: read its elements with bytesAt");
        }
        return data.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    }

    /** Element {@code index} of a {@link DataType#BYTES} tensor, as a read-only copy-free view. */
    public ByteBuffer bytesAt(int index) {
        if (elements == null) {
            throw new IllegalStateException("tensor '" + name + "' is " + type + ", not BYTES");
        }
        return ByteBuffer.wrap(elements.get(index)).asReadOnlyBuffer();
    }

    /** The index of the first NaN or infinite element, or -1 (always for a tensor of a type other than FP16/32/64). */
    public int firstNonFinite() {
        if (!type.isFloatingPoint()) {
            return -1;
        }
        for (int i = 0; i < elementCount; i++) {
            if (!Double.isFinite(doubleAt(i))) {
                return i;
            }
        }
        return -1;
    }

    /** Element {@code index} of a numeric or BOOL tensor as a double (UINT64 above 2^63 as its unsigned value). */
    public double doubleAt(int index) {
        return switch (type) {
            case FP32 -> data.getFloat(index * 4);
            case FP64 -> data.getDouble(index * 8);
            case FP16 -> Float.float16ToFloat(data.getShort(index * 2));
            case UINT64 -> {
                long value = data.getLong(index * 8);
                yield value >= 0 ? value : (double) (value >>> 1) * 2.0 + (value & 1);
            }
            default -> longAt(index);
        };
    }

    /**
     * Element {@code index} of an integer or BOOL tensor as a long; UINT64 values above 2^63 come back as their two's
     * complement bits (read them with {@link Long#toUnsignedString}).
     */
    public long longAt(int index) {
        return switch (type) {
            case BOOL, INT8 -> data.get(index);
            case UINT8 -> data.get(index) & 0xFFL;
            case INT16 -> data.getShort(index * 2);
            case UINT16 -> data.getShort(index * 2) & 0xFFFFL;
            case INT32 -> data.getInt(index * 4);
            case UINT32 -> data.getInt(index * 4) & 0xFFFF_FFFFL;
            case INT64, UINT64 -> data.getLong(index * 8);
            case FP16, FP32, FP64 -> (long) doubleAt(index);
            case BYTES -> throw new IllegalStateException("tensor '" + name + "' is BYTES, not a number");
        };
    }

    /** Element {@code index} of a BOOL tensor. */
    public boolean booleanAt(int index) {
        return data.get(index) != 0;
    }

    /** The data's size in bytes; for BYTES, the sum of the elements' lengths. */
    public long byteSize() {
        if (data != null) {
            return data.capacity();
        }
        long size = 0;
        for (byte[] element : elements) {
            size += element.length;
        }
        return size;
    }

    /** The same type, shape and data under another name. */
    public Tensor withName(String newName) {
        return new Tensor(newName, type, shape, elementCount, data, elements);
    }

    /** The same data under another shape with as many elements (a reshape, not a copy). */
    public Tensor withShape(long[] newShape) {
        int count = elementCount(name, newShape);
        if (count != elementCount) {
            throw mismatch(name, newShape, elementCount + " elements");
        }
        return new Tensor(name, type, newShape.clone(), count, data, elements);
    }

    /**
     * Rows {@code first} to {@code first + count} of the first dimension, under the same name; fixed-size data is not
     * copied.
     *
     * @throws IllegalArgumentException for a tensor of rank 0 or rows beyond its first dimension
     */
    public Tensor rows(int first, int count) {
        if (shape.length == 0 || first < 0 || count < 0 || first + count > shape[0]) {
            throw new IllegalArgumentException("tensor '" + name + "' " + Arrays.toString(shape) + " has no rows "
                    + first + " to " + (first + count));
        }
        long[] rowsShape = shape.clone();
        rowsShape[0] = count;
        int perRow = shape[0] == 0 ? 0 : (int) (elementCount / shape[0]);
        if (elements != null) {
            return new Tensor(name, type, rowsShape, count * perRow,
                    null, List.copyOf(elements.subList(first * perRow, (first + count) * perRow)));
        }
        int rowBytes = perRow * type.byteSize();
        return new Tensor(name, type, rowsShape, count * perRow,
                data.slice(first * rowBytes, count * rowBytes).order(ByteOrder.LITTLE_ENDIAN), null);
    }

    /**
     * {@code parts} one after another along the first dimension, under the first part's name: they must share the
     * type, the rank and every dimension after the first.
     *
     * @throws IllegalArgumentException when they do not
     */
    public static Tensor concatenate(List<Tensor> parts) {
        Tensor first = parts.getFirst();
        long[] shape = first.shape();
        if (shape.length == 0) {
            throw new IllegalArgumentException("tensor '" + first.name + "' has no first dimension");
        }
        long rows = 0;
        for (Tensor part : parts) {
            if (part.type != first.type || part.shape.length != shape.length || !Arrays.equals(part.shape, 1,
                    shape.length, shape, 1, shape.length)) {
                throw new IllegalArgumentException("tensor '" + first.name + "': " + part.type
                        + Arrays.toString(part.shape) + " does not follow " + first.type + Arrays.toString(shape));
            }
            rows += part.shape[0];
        }
        shape[0] = rows;
        if (first.type == DataType.BYTES) {
            List<byte[]> elements = new ArrayList<>();
            for (Tensor part : parts) {
                elements.addAll(part.elements);
            }
            return ofBytes(first.name, shape, elements);
        }
        long bytes = 0;
        for (Tensor part : parts) {
            bytes += part.byteSize();
        }
        ByteBuffer data = ByteBuffer.allocate(Math.toIntExact(bytes)).order(ByteOrder.LITTLE_ENDIAN);
        for (Tensor part : parts) {
            data.put(part.data());
        }
        return of(first.name, first.type, shape, data.flip());
    }

    @Override
    public String toString() {
        return "Tensor{" + name + ", " + type + Arrays.toString(shape) + "}";
    }
}
