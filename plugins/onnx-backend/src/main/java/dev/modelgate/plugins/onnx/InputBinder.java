package dev.modelgate.plugins.onnx;

import dev.modelgate.spi.CoreErrors;
import dev.modelgate.spi.RejectionException;
import dev.modelgate.spi.inference.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Matches a request's tensors to the model's inputs by name and prepares each one as ONNX Runtime reads it. Every
 * tensor is checked (name, type, shape, batch size) before any buffer is allocated, so a request that is refused costs
 * no native-side copy. Immutable and thread-safe.
 */
final class InputBinder {

    private final List<TensorSpec> inputs;
    private final List<String> inputNames; // a handful: a list is all the lookups need
    private final int maxBatch;

    InputBinder(List<TensorSpec> inputs, int maxBatch) {
        this.inputs = List.copyOf(inputs);
        this.inputNames = inputs.stream().map(TensorSpec::name).toList();
        this.maxBatch = maxBatch;
    }

    /**
     * One value per model input, in the model's order. A single tensor named {@code ""} (a TensorFlow Serving
     * instance list, which names no input) feeds the model's sole input.
     *
     * @throws RejectionException with {@link CoreErrors#INPUT_MISMATCH} for a missing, unknown or repeated input, a
     *     type the input does not take or a shape it does not fit; {@link CoreErrors#INVALID_PREDICT_REQUEST} for
     *     more rows than {@code max-batch}; {@link CoreErrors#INVALID_TENSOR_VALUE} for an FP64 value beyond an FP32
     *     input's range
     */
    List<TensorValue> bind(List<Tensor> given) {
        Map<String, Tensor> byName = byModelName(given);
        for (TensorSpec input : inputs) {
            Tensor tensor = byName.get(input.name());
            if (tensor == null) {
                throw mismatch("the request lacks input '" + input.name() + "'; the model's inputs are "
                        + inputNames);
            }
            check(input, tensor);
        }
        List<TensorValue> values = new ArrayList<>(inputs.size());
        for (TensorSpec input : inputs) {
            Tensor tensor = byName.get(input.name());
            values.add(new TensorValue(input.name(), input.type(), tensor.shape(),
                    TensorBuffers.toNative(tensor, input.type())));
        }
        return values;
    }

    private Map<String, Tensor> byModelName(List<Tensor> given) {
        if (given.size() == 1 && given.getFirst().name().isEmpty()) {
            if (inputs.size() != 1) {
                throw mismatch("the request names no input, but the model has inputs " + inputNames
                        + "; name each input");
            }
            return Map.of(inputs.getFirst().name(), given.getFirst());
        }
        Map<String, Tensor> byName = new HashMap<>();
        for (Tensor tensor : given) {
            if (!inputNames.contains(tensor.name())) {
                throw mismatch("the request has unknown input '" + tensor.name() + "'; the model's inputs are "
                        + inputNames);
            }
            if (byName.put(tensor.name(), tensor) != null) {
                throw mismatch("the request gives input '" + tensor.name() + "' twice");
            }
        }
        return byName;
    }

    private void check(TensorSpec input, Tensor tensor) {
        if (!input.type().takes(tensor.type())) {
            String converted = input.type().converts() ? " (or integer and floating-point tensors, converted)" : "";
            throw mismatch("input '" + input.name() + "' takes " + input.type() + " tensors" + converted
                    + ", but the request's is " + tensor.type());
        }
        if (!input.fits(tensor.shape())) {
            throw mismatch("input '" + input.name() + "' has shape " + input.shapeText() + " (-1 takes any size),"
                    + " but the request's tensor has shape " + Arrays.toString(tensor.shape()));
        }
        if (tensor.rank() > 0 && tensor.dimension(0) > maxBatch) {
            throw new RejectionException(CoreErrors.INVALID_PREDICT_REQUEST, "at most " + maxBatch
                    + " rows are allowed per request, but input '" + input.name() + "' has " + tensor.dimension(0));
        }
    }

    private static RejectionException mismatch(String detail) {
        return new RejectionException(CoreErrors.INPUT_MISMATCH, detail);
    }
}
