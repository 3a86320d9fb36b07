package dev.modelgate.plugins.kservev2;

import dev.modelgate.spi.Headers;
import dev.modelgate.spi.RejectionException;
import dev.modelgate.spi.inference.DataType;
import dev.modelgate.spi.inference.InferenceCodec;
import dev.modelgate.spi.inference.Payload;
import dev.modelgate.spi.inference.Tensor;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Triton's binary tensor data extension: a body of a JSON header of {@code Inference-Header-Content-Length} bytes,
 * then the tensors' raw bytes in the order of the header's tensors. Fixed-size types are little-endian and row-major
 * (BOOL one byte, 0 or 1); each BYTES element is a 4-byte little-endian unsigned length and its bytes.
 *
 * <p>Every problem with the layout (a bad header length, sizes that overrun the body or leave bytes unused, a BYTES
 * length prefix past its tensor) is a {@link RejectionException} from {@link InferenceCodec#malformed}.
 */
final class BinarySection {

    static final String HEADER_LENGTH = "Inference-Header-Content-Length";
    static final String MEDIA_TYPE = "application/octet-stream";

    private BinarySection() {
    }

    /**
     * The length of the JSON header the payload's {@code Inference-Header-Content-Length} gives, or -1 when the
     * header is absent and the whole body is JSON.
     */
    static int headerLength(Payload payload) {
        Headers headers = payload.headers();
        String value = headers == null ? null : headers.first(HEADER_LENGTH);
        if (value == null) {
            return -1;
        }
        long length;
        try {
            length = Long.parseLong(value.strip());
        } catch (NumberFormatException e) {
            throw malformed(HEADER_LENGTH + " must be an integer, but was '" + value + "'");
        }
        if (length < 0 || length > payload.body().length) {
            throw malformed(HEADER_LENGTH + " is " + length + " but the body holds only "
                    + payload.body().length + " bytes");
        }
        return (int) length;
    }

    /**
     * The header's tensors, each binary one given its bytes from {@code body} starting at {@code offset}, in order.
     * Fixed-size tensors are views of {@code body}, not copies: the caller must not change it afterwards.
     */
    static List<Tensor> resolve(List<WireTensor> tensors, byte[] body, int offset) {
        List<Tensor> resolved = new ArrayList<>(tensors.size());
        int position = offset;
        for (WireTensor wire : tensors) {
            if (!wire.isBinary()) {
                resolved.add(wire.tensor());
                continue;
            }
            if (wire.binarySize() > body.length - position) {
                throw malformed("tensor '" + wire.name() + "' has binary_data_size " + wire.binarySize()
                        + " but only " + (body.length - position) + " bytes of binary data remain");
            }
            int size = (int) wire.binarySize();
            resolved.add(read(wire.name(), wire.type(), wire.shape(), body, position, size));
            position += size;
        }
        if (position != body.length) {
            throw malformed((body.length - position) + " bytes of binary data follow the last tensor's");
        }
        return resolved;
    }

    /**
     * One tensor from {@code length} bytes of {@code body} at {@code offset}.
     *
     * @throws RejectionException with TENSOR_SHAPE_MISMATCH when the bytes hold another number of elements
     */
    static Tensor read(String name, DataType type, long[] shape, byte[] body, int offset, int length) {
        if (type == DataType.BYTES) {
            return Tensor.ofBytes(name, shape, elements(name, body, offset, length));
        }
        return Tensor.of(name, type, shape, ByteBuffer.wrap(body, offset, length));
    }

    /** The length-prefixed BYTES elements in {@code length} bytes of {@code body} at {@code offset}. */
    static List<byte[]> elements(String name, byte[] body, int offset, int length) {
        ByteBuffer section = ByteBuffer.wrap(body, offset, length).order(ByteOrder.LITTLE_ENDIAN);
        List<byte[]> elements = new ArrayList<>();
        while (section.hasRemaining()) {
            if (section.remaining() < Integer.BYTES) {
                throw malformed("BYTES tensor '" + name + "' ends inside the length of element " + elements.size());
            }
            long elementLength = Integer.toUnsignedLong(section.getInt());
            if (elementLength > section.remaining()) {
                throw malformed("BYTES tensor '" + name + "' gives element " + elements.size() + " a length of "
                        + elementLength + " but only " + section.remaining() + " bytes remain");
            }
            int start = section.position();
            elements.add(Arrays.copyOfRange(body, start, start + (int) elementLength));
            section.position(start + (int) elementLength);
        }
        return elements;
    }

    /** The tensor's size in the binary section: its data, plus 4 bytes a BYTES element for the length. */
    static long size(Tensor tensor) {
        long size = tensor.byteSize();
        return tensor.type() == DataType.BYTES ? size + (long) Integer.BYTES * tensor.elementCount() : size;
    }

    /** Appends the tensor's bytes in the binary section's layout. */
    static void write(Tensor tensor, ByteArrayOutputStream out) {
        if (tensor.type() != DataType.BYTES) {
            // The tensor's buffer is read-only, so it has no array to write from: one copy is the least there is.
            writeCopy(tensor.data(), out);
            return;
        }
        byte[] prefix = new byte[Integer.BYTES];
        ByteBuffer prefixView = ByteBuffer.wrap(prefix).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < tensor.elementCount(); i++) {
            ByteBuffer element = tensor.bytesAt(i);
            prefixView.putInt(0, element.remaining());
            out.write(prefix, 0, prefix.length);
            writeCopy(element, out);
        }
    }

    private static void writeCopy(ByteBuffer data, ByteArrayOutputStream out) {
        byte[] bytes = new byte[data.remaining()];
        data.get(bytes);
        out.write(bytes, 0, bytes.length);
    }

    private static RejectionException malformed(String detail) {
        return InferenceCodec.malformed(MEDIA_TYPE, detail);
    }
}
