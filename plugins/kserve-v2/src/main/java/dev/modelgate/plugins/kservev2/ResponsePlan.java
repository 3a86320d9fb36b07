package dev.modelgate.plugins.kservev2;

import dev.modelgate.spi.CoreErrors;
import dev.modelgate.spi.RejectionException;
import dev.modelgate.spi.inference.InferenceRequest;
import dev.modelgate.spi.inference.InferenceResponse;
import dev.modelgate.spi.inference.RequestedOutput;
import dev.modelgate.spi.inference.Tensor;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * What a decoded request asks of its answer's shape, kept on the exchange between decoding the request and encoding
 * the response: the request id to echo, the outputs asked for in order, and which outputs go back in the binary
 * section (all of them for {@code binary_data_output: true} or a raw request, else those asked with
 * {@code binary_data: true}).
 */
record ResponsePlan(String id, List<String> order, boolean allBinary, Set<String> binaryOutputs) {

    static final String BINARY_DATA = "binary_data";
    static final String BINARY_DATA_OUTPUT = "binary_data_output";
    private static final String CLASSIFICATION = "classification";

    ResponsePlan {
        order = List.copyOf(order);
        binaryOutputs = Set.copyOf(binaryOutputs);
    }

    /**
     * The plan for {@code request}'s answer. An output's own {@code binary_data} overrides the request's
     * {@code binary_data_output}, as Triton's extension says.
     *
     * @throws RejectionException with {@link CoreErrors#OPERATION_UNSUPPORTED} for Triton's classification
     *     extension, which the gateway does not serve: dropping the parameter would answer another shape
     */
    static ResponsePlan of(InferenceRequest request, boolean allBinary) {
        List<String> order = new ArrayList<>();
        Set<String> binary = new HashSet<>();
        boolean everyOutput = allBinary || Boolean.TRUE.equals(request.parameters().get(BINARY_DATA_OUTPUT));
        for (RequestedOutput output : request.outputs()) {
            order.add(output.name());
            if (output.parameters().containsKey(CLASSIFICATION)) {
                throw new RejectionException(CoreErrors.OPERATION_UNSUPPORTED, "output '" + output.name()
                        + "' asks for the classification extension; ask for the output itself");
            }
            Object own = output.parameters().get(BINARY_DATA);
            if (Boolean.TRUE.equals(own) || everyOutput && !Boolean.FALSE.equals(own)) {
                binary.add(output.name());
            }
        }
        // With no outputs named, binary_data_output covers every output the answer holds.
        return new ResponsePlan(request.id(), order, everyOutput && order.isEmpty(), binary);
    }

    boolean binary(String output) {
        return allBinary || binaryOutputs.contains(output);
    }

    /** The response's outputs to send: those asked for, in the order asked, or every one when none was named. */
    List<Tensor> outputs(InferenceResponse response) {
        if (order.isEmpty()) {
            return response.outputs();
        }
        List<Tensor> outputs = new ArrayList<>(order.size());
        for (String name : order) {
            Tensor output = response.output(name);
            // A missing output is the backend's to report; the answer holds what it gave.
            if (output != null) {
                outputs.add(output);
            }
        }
        return outputs;
    }
}
