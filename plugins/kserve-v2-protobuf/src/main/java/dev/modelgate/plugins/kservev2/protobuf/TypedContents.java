package dev.modelgate.plugins.kservev2.protobuf;

import com.google.protobuf.Descriptors.FieldDescriptor;
import dev.modelgate.plugins.kservev2.protobuf.inference.InferTensorContents;
import dev.modelgate.spi.CoreErrors;
import dev.modelgate.spi.RejectionException;
import dev.modelgate.spi.inference.DataType;
import dev.modelgate.spi.inference.Tensor;
import dev.modelgate.spi.inference.TensorBuilder;
import java.math.BigInteger;

/**
 * A tensor's {@link InferTensorContents}: its elements in the one repeated field of its data type ({@code int_contents}
 * for INT8, INT16 and INT32, {@code uint_contents} for UINT8, UINT16 and UINT32, one field each for the others). FP16
 * has no field: it travels only as raw contents. Stateless.
 */
final class TypedContents {

    private TypedContents() {
    }

    /**
     * The tensor {@code contents} holds.
     *
     * @throws RejectionException with {@link CoreErrors#INVALID_TENSOR_VALUE} when a field other than the data
     *     type's holds elements, or an element does not fit the data type (300 in a UINT8 tensor); with
     *     {@link CoreErrors#TENSOR_SHAPE_MISMATCH} when the field holds another number of elements than {@code shape}
     *     calls for
     */
    static Tensor read(String name, DataType type, long[] shape, InferTensorContents contents) {
        String field = fieldOf(type);
        for (FieldDescriptor set : contents.getAllFields().keySet()) {
            if (!set.getName().equals(field)) {
                throw new RejectionException(CoreErrors.INVALID_TENSOR_VALUE, "tensor '" + name + "' is " + type
                        + ", whose elements go " + (field == null ? "only in raw contents" : "in " + field)
                        + ", but it has " + set.getName());
            }
        }
        // The builder converts each element and refuses the ones out of the data type's range.
        TensorBuilder tensor = Tensor.builder(name, type);
        switch (type) {
            case BOOL -> {
                for (int i = 0; i < contents.getBoolContentsCount(); i++) {
                    tensor.addBoolean(contents.getBoolContents(i));
                }
            }
            case INT8, INT16, INT32 -> {
                for (int i = 0; i < contents.getIntContentsCount(); i++) {
                    tensor.addLong(contents.getIntContents(i));
                }
            }
            case INT64 -> {
                for (int i = 0; i < contents.getInt64ContentsCount(); i++) {
                    tensor.addLong(contents.getInt64Contents(i));
                }
            }
            case UINT8, UINT16, UINT32 -> {
                for (int i = 0; i < contents.getUintContentsCount(); i++) {
                    tensor.addLong(Integer.toUnsignedLong(contents.getUintContents(i)));
                }
            }
            case UINT64 -> {
                for (int i = 0; i < contents.getUint64ContentsCount(); i++) {
                    addUnsigned(tensor, contents.getUint64Contents(i));
                }
            }
            case FP32 -> {
                for (int i = 0; i < contents.getFp32ContentsCount(); i++) {
                    tensor.addDouble(contents.getFp32Contents(i));
                }
            }
            case FP64 -> {
                for (int i = 0; i < contents.getFp64ContentsCount(); i++) {
                    tensor.addDouble(contents.getFp64Contents(i));
                }
            }
            case BYTES -> {
                for (int i = 0; i < contents.getBytesContentsCount(); i++) {
                    tensor.addBytes(contents.getBytesContents(i).toByteArray());
                }
            }
            case FP16 -> {
                // No field: only a tensor without elements can come this way, and build checks that.
            }
        }
        return tensor.build(shape);
    }

    /** The field of {@link InferTensorContents} that holds {@code type}'s elements, or {@code null} for FP16. */
    static String fieldOf(DataType type) {
        return switch (type) {
            case BOOL -> "bool_contents";
            case INT8, INT16, INT32 -> "int_contents";
            case INT64 -> "int64_contents";
            case UINT8, UINT16, UINT32 -> "uint_contents";
            case UINT64 -> "uint64_contents";
            case FP32 -> "fp32_contents";
            case FP64 -> "fp64_contents";
            case BYTES -> "bytes_contents";
            case FP16 -> null;
        };
    }

    /** Appends a uint64 element, which Java holds as the bits of a long: negative longs are values above 2^63. */
    private static void addUnsigned(TensorBuilder tensor, long bits) {
        if (bits >= 0) {
            tensor.addLong(bits);
        } else {
            tensor.addBigInteger(new BigInteger(Long.toUnsignedString(bits)));
        }
    }
}
