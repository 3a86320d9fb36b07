package dev.modelgate.plugins.onnx;

import dev.modelgate.spi.CoreErrors;
import dev.modelgate.spi.RejectionException;
import dev.modelgate.spi.inference.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Moves tensor data between the SPI's little-endian buffers and ONNX Runtime's buffers in the platform's native byte
 * order, converting element types where {@link ElementType#takes} allows. The byte order is never assumed: on a
 * little-endian platform the copies are plain, elsewhere each element is swapped.
 */
final class TensorBuffers {

    private TensorBuffers() {
    }

    /**
     * A direct buffer in native order holding {@code tensor}'s elements as {@code target}, as ONNX Runtime reads an
     * input without copying it again. The caller has checked that {@code target} {@linkplain ElementType#takes takes}
     * the tensor's type.
     *
     * @throws RejectionException with {@link CoreErrors#INVALID_TENSOR_VALUE} when an FP64 value is beyond FP32's range
     */
    static ByteBuffer toNative(Tensor tensor, ElementType target) {
        ByteBuffer out = ByteBuffer.allocateDirect(tensor.elementCount() * target.byteSize())
                .order(ByteOrder.nativeOrder());
        if (tensor.type() == target.dataType()) {
            reorder(tensor.data(), out, target.byteSize());
            return out;
        }
        int count = tensor.elementCount();
        if (target == ElementType.FP64) {
            for (int i = 0; i < count; i++) {
                out.putDouble(i * Double.BYTES, tensor.doubleAt(i));
            }
            return out;
        }
        for (int i = 0; i < count; i++) {
            double value = tensor.doubleAt(i);
            float narrowed = (float) value;
            // Rounding to the nearest float is the conversion clients expect of a number; overflow is not.
            if (Float.isInfinite(narrowed) && !Double.isInfinite(value)) {
                throw new RejectionException(CoreErrors.INVALID_TENSOR_VALUE, "tensor '" + tensor.name()
                        + "' feeds an FP32 input, but its element " + i + ", " + value + ", is beyond FP32's range");
            }
            out.putFloat(i * Float.BYTES, narrowed);
        }
        return out;
    }

    /**
     * An output tensor over {@code nativeData}, the elements ONNX Runtime copied out in native order. The buffer is
     * taken over: on a little-endian platform it becomes the tensor's data as is.
     */
    static Tensor fromNative(String name, ElementType type, long[] shape, ByteBuffer nativeData) {
        ByteBuffer data = nativeData;
        if (ByteOrder.nativeOrder() != ByteOrder.LITTLE_ENDIAN) {
            data = ByteBuffer.allocate(nativeData.remaining()).order(ByteOrder.LITTLE_ENDIAN);
            reorder(nativeData.order(ByteOrder.nativeOrder()), data, type.byteSize());
        }
        return Tensor.of(name, type.dataType(), shape, data);
    }

    /**
     * Copies the elements of {@code source} into {@code target} from position 0, each read in the source's byte order
     * and written in the target's; the typed views swap bytes only when the orders differ. Neither position moves.
     */
    private static void reorder(ByteBuffer source, ByteBuffer target, int elementSize) {
        ByteBuffer from = source.duplicate().order(source.order());
        ByteBuffer to = target.duplicate().order(target.order());
        switch (elementSize) {
            case Byte.BYTES -> to.put(from);
            case Short.BYTES -> to.asShortBuffer().put(from.asShortBuffer());
            case Integer.BYTES -> to.asIntBuffer().put(from.asIntBuffer());
            case Long.BYTES -> to.asLongBuffer().put(from.asLongBuffer());
            default -> throw new IllegalArgumentException("no element type is " + elementSize + " bytes wide");
        }
    }
}
