package dev.modelgate.plugins.kservev2.protobuf;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import dev.modelgate.spi.CoreErrors;
import dev.modelgate.spi.RejectionException;
import dev.modelgate.spi.inference.DataType;
import dev.modelgate.spi.inference.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * One entry of {@code raw_input_contents} or {@code raw_output_contents}: a tensor's elements flattened row-major,
 * little-endian, without stride or padding; a {@link DataType#BYTES} element as its 4-byte little-endian length and
 * its bytes (Triton's layout, shared with its HTTP binary extension). Stateless.
 */
final class RawContents {

    private static final byte[] EMPTY = new byte[0];

    private RawContents() {
    }

    /**
     * The tensor an entry holds. Fixed-size types keep a view of {@code raw}, not a copy, so {@code raw} must not
     * change afterwards (a {@link ByteString} never does).
     *
     * @throws RejectionException with {@link CoreErrors#TENSOR_SHAPE_MISMATCH} when the entry holds another number
     *     of elements than {@code shape} calls for, with {@link CoreErrors#INVALID_TENSOR_VALUE} when a BYTES entry's
     *     lengths run past its end
     */
    static Tensor read(String name, DataType type, long[] shape, ByteString raw) {
        if (type == DataType.BYTES) {
            return Tensor.ofBytes(name, shape, elements(name, raw.asReadOnlyByteBuffer()));
        }
        return Tensor.of(name, type, shape, raw.asReadOnlyByteBuffer());
    }

    /** The entry for {@code tensor}; fixed-size types wrap the tensor's own (immutable) buffer instead of copying. */
    static ByteString write(Tensor tensor) {
        if (tensor.type() != DataType.BYTES) {
            return UnsafeByteOperations.unsafeWrap(tensor.data());
        }
        // A protobuf message cannot exceed 2 GiB, so a larger tensor could not be sent anyway.
        int size = Math.toIntExact(tensor.byteSize() + (long) Integer.BYTES * tensor.elementCount());
        ByteBuffer out = ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
        for (int index = 0; index < tensor.elementCount(); index++) {
            ByteBuffer element = tensor.bytesAt(index);
            out.putInt(element.remaining()).put(element);
        }
        return UnsafeByteOperations.unsafeWrap(out.array());
    }

    private static List<byte[]> elements(String name, ByteBuffer raw) {
        raw.order(ByteOrder.LITTLE_ENDIAN);
        List<byte[]> elements = new ArrayList<>();
        while (raw.hasRemaining()) {
            if (raw.remaining() < Integer.BYTES) {
                throw invalid(name, "ends inside the length of element " + elements.size());
            }
            long length = Integer.toUnsignedLong(raw.getInt());
            if (length > raw.remaining()) {
                throw invalid(name, "gives element " + elements.size() + " a length of " + length + " bytes, but only "
                        + raw.remaining() + " remain");
            }
            // Empty strings share one array, so a body of zero lengths cannot cost more than the body itself.
            byte[] element = length == 0 ? EMPTY : new byte[(int) length];
            raw.get(element);
            elements.add(element);
        }
        return elements;
    }

    private static RejectionException invalid(String name, String detail) {
        return new RejectionException(CoreErrors.INVALID_TENSOR_VALUE,
                "the raw contents of BYTES tensor '" + name + "' " + detail);
    }
}
