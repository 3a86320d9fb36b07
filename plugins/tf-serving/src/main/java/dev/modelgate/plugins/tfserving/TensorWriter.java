package dev.modelgate.plugins.tfserving;

import com.fasterxml.jackson.core.JsonGenerator;
import dev.modelgate.spi.inference.DataType;
import dev.modelgate.spi.inference.Tensor;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;

/**
 * Writes tensors as TF Serving's JSON values: nested lists by shape; numbers as numbers (NaN and infinities as the
 * bare tokens TF Serving writes, when the generator is set up so); {@link DataType#BYTES} elements as
 * {@code {"b64": "..."}} when the tensor's name ends in {@code _bytes}, else as UTF-8 strings. Stateless.
 */
final class TensorWriter {

    private static final String BINARY_SUFFIX = "_bytes";

    private TensorWriter() {
    }

    /** The whole tensor. */
    static void writeValue(JsonGenerator generator, Tensor tensor) throws IOException {
        writeNested(generator, tensor, tensor.shape(), 0, 0);
    }

    /** Row {@code row} of the tensor: its elements under dimension 0, shaped as the rest of the shape. */
    static void writeRow(JsonGenerator generator, Tensor tensor, int row) throws IOException {
        long[] shape = tensor.shape();
        long[] rowShape = Arrays.copyOfRange(shape, 1, shape.length);
        int rowSize = shape[0] == 0 ? 0 : tensor.elementCount() / (int) shape[0];
        writeNested(generator, tensor, rowShape, 0, row * rowSize);
    }

    /** Element {@code index} (row-major) as a scalar value. */
    static void writeElement(JsonGenerator generator, Tensor tensor, int index) throws IOException {
        switch (tensor.type()) {
            case BOOL -> generator.writeBoolean(tensor.booleanAt(index));
            case FP16, FP32 -> generator.writeNumber((float) tensor.doubleAt(index));
            case FP64 -> generator.writeNumber(tensor.doubleAt(index));
            case UINT64 -> {
                long value = tensor.longAt(index);
                if (value >= 0) {
                    generator.writeNumber(value);
                } else {
                    generator.writeNumber(new BigInteger(Long.toUnsignedString(value)));
                }
            }
            case BYTES -> writeBytes(generator, tensor, index);
            default -> generator.writeNumber(tensor.longAt(index));
        }
    }

    /** Writes the elements from {@code index} on, nested as {@code shape} from {@code dim}; returns the next index. */
    private static int writeNested(JsonGenerator generator, Tensor tensor, long[] shape, int dim, int index)
            throws IOException {
        if (dim == shape.length) {
            writeElement(generator, tensor, index);
            return index + 1;
        }
        generator.writeStartArray();
        int next = index;
        for (long i = 0; i < shape[dim]; i++) {
            next = writeNested(generator, tensor, shape, dim + 1, next);
        }
        generator.writeEndArray();
        return next;
    }

    /** A copy of element {@code index} of a {@link DataType#BYTES} tensor. */
    static byte[] bytesAt(Tensor tensor, int index) {
        ByteBuffer element = tensor.bytesAt(index);
        byte[] bytes = new byte[element.remaining()];
        element.get(bytes);
        return bytes;
    }

    private static void writeBytes(JsonGenerator generator, Tensor tensor, int index) throws IOException {
        byte[] bytes = bytesAt(tensor, index);
        if (tensor.name().endsWith(BINARY_SUFFIX)) {
            generator.writeStartObject();
            generator.writeStringField("b64", Base64.getEncoder().encodeToString(bytes));
            generator.writeEndObject();
        } else {
            generator.writeString(new String(bytes, StandardCharsets.UTF_8));
        }
    }
}
