package dev.modelgate.plugins.kservev2;

import static dev.modelgate.plugins.kservev2.WireReader.invalid;

import dev.modelgate.spi.CoreErrors;
import dev.modelgate.spi.RejectionException;
import dev.modelgate.spi.inference.DataType;
import dev.modelgate.spi.inference.InferenceCodec;
import dev.modelgate.spi.inference.ModelMetadata;
import dev.modelgate.spi.inference.Tensor;
import dev.modelgate.spi.inference.TensorMetadata;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * Triton's raw binary request ({@code Inference-Header-Content-Length: 0}): a body holding nothing but the bytes of
 * the model's single input, taken as a batch of one. The input's name, data type and shape come from the model's
 * metadata: a leading -1 (the batch dimension) becomes 1, and one other -1 is derived from the element count.
 */
final class RawInput {

    private static final String WHAT = "a raw binary request (Inference-Header-Content-Length: 0)";

    private RawInput() {
    }

    /**
     * The input tensor {@code body} holds, a view of it for fixed-size types.
     *
     * @throws RejectionException with INVALID_PREDICT_REQUEST when the metadata is unknown, has other than one input
     *     or leaves the shape undetermined; MALFORMED_BODY when the bytes are not whole elements
     */
    static Tensor decode(byte[] body, ModelMetadata metadata) {
        if (metadata == null) {
            throw invalid(WHAT + " needs the model's metadata to know its input, and the backend gives none");
        }
        List<TensorMetadata> inputs = metadata.inputs();
        if (inputs.size() != 1) {
            throw invalid(WHAT + " is only for models with exactly one input, but model '" + metadata.name()
                    + "' has " + inputs.size());
        }
        TensorMetadata input = inputs.getFirst();
        DataType type = input.type();
        if (type == DataType.BYTES) {
            List<byte[]> elements = BinarySection.elements(input.name(), body, 0, body.length);
            return Tensor.ofBytes(input.name(), shape(input, elements.size()), elements);
        }
        if (body.length % type.byteSize() != 0) {
            throw InferenceCodec.malformed(BinarySection.MEDIA_TYPE, body.length + " bytes are not whole " + type
                    + " elements of input '" + input.name() + "'");
        }
        long[] shape = shape(input, body.length / type.byteSize());
        return Tensor.of(input.name(), type, shape, ByteBuffer.wrap(body));
    }

    /** The metadata's shape as a batch of one holding {@code count} elements. */
    private static long[] shape(TensorMetadata input, int count) {
        long[] shape = input.shape().stream().mapToLong(Long::longValue).toArray();
        if (shape.length > 0 && shape[0] < 0) {
            shape[0] = 1;
        }
        int unknown = -1;
        long known = 1;
        for (int i = 0; i < shape.length; i++) {
            if (shape[i] >= 0) {
                known *= shape[i];
            } else if (unknown < 0) {
                unknown = i;
            } else {
                throw invalid(WHAT + " cannot tell the shape of input '" + input.name() + "': its metadata shape "
                        + input.shape() + " has more than one variable dimension besides the batch");
            }
        }
        if (unknown >= 0) {
            if (known == 0 || count % known != 0) {
                throw new RejectionException(CoreErrors.TENSOR_SHAPE_MISMATCH, "input '" + input.name() + "' of "
                        + WHAT + " holds " + count + " elements, which do not fill its metadata shape "
                        + input.shape() + " as a batch of one");
            }
            shape[unknown] = count / known;
        }
        return shape;
    }
}
