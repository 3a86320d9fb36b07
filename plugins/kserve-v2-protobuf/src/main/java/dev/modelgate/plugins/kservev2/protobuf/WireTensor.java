package dev.modelgate.plugins.kservev2.protobuf;

import com.google.protobuf.ByteString;
import dev.modelgate.plugins.kservev2.protobuf.inference.InferTensorContents;
import dev.modelgate.spi.CoreErrors;
import dev.modelgate.spi.RejectionException;
import dev.modelgate.spi.inference.DataType;
import dev.modelgate.spi.inference.Tensor;
import java.util.ArrayList;
import java.util.List;

/**
 * A tensor as a message describes it, request input and response output alike, before its data is read.
 *
 * @param contents its typed contents, the default instance when it has none
 */
record WireTensor(String name, String datatype, List<Long> shape, InferTensorContents contents) {

    /**
     * The tensors of one message, their data read from {@code raw} (the message's {@code raw_input_contents} or
     * {@code raw_output_contents}, called {@code rawField} in messages) when it has entries, else from each tensor's
     * typed contents. Mixing the two is refused, as the protocol says.
     *
     * @throws RejectionException with {@link CoreErrors#INVALID_PREDICT_REQUEST} when a tensor has typed contents
     *     beside raw ones or {@code raw} has not one entry per tensor; with {@link CoreErrors#UNKNOWN_DATA_TYPE},
     *     {@link CoreErrors#TENSOR_SHAPE_MISMATCH} or {@link CoreErrors#INVALID_TENSOR_VALUE} for a tensor whose data
     *     does not fit its description
     */
    static List<Tensor> read(List<WireTensor> tensors, List<ByteString> raw, String rawField) {
        if (!raw.isEmpty()) {
            checkRawOnly(tensors, raw, rawField);
        }
        List<Tensor> read = new ArrayList<>(tensors.size());
        for (int index = 0; index < tensors.size(); index++) {
            WireTensor tensor = tensors.get(index);
            DataType type = DataType.parse(tensor.datatype());
            long[] shape = tensor.shape().stream().mapToLong(Long::longValue).toArray();
            read.add(raw.isEmpty()
                    ? TypedContents.read(tensor.name(), type, shape, tensor.contents())
                    : RawContents.read(tensor.name(), type, shape, raw.get(index)));
        }
        return read;
    }

    private static void checkRawOnly(List<WireTensor> tensors, List<ByteString> raw, String rawField) {
        for (WireTensor tensor : tensors) {
            // An empty contents message carries nothing, so only contents with elements conflict with raw ones.
            if (tensor.contents().getSerializedSize() > 0) {
                throw new RejectionException(CoreErrors.INVALID_PREDICT_REQUEST, "tensor '" + tensor.name()
                        + "' has typed contents, but the message carries " + rawField + ": use one or the other");
            }
        }
        if (raw.size() != tensors.size()) {
            throw new RejectionException(CoreErrors.INVALID_PREDICT_REQUEST, rawField + " has " + raw.size()
                    + " entries for " + tensors.size() + " tensors; it needs one per tensor, in their order");
        }
    }
}
