package dev.modelgate.plugins.kservev2;

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

    ResponsePlan {
        order = List.copyOf(order);
        binaryOutputs = Set.copyOf(binaryOutputs);
    }

    static ResponsePlan of(InferenceRequest request, boolean allBinary) {
        List<String> order = new ArrayList<>();
        Set<String> binary = new HashSet<>();
        for (RequestedOutput output : request.outputs()) {
            order.add(output.name());
            if (Boolean.TRUE.equals(output.parameters().get(BINARY_DATA))) {
                binary.add(output.name());
            }
        }
        boolean all = allBinary || Boolean.TRUE.equals(request.parameters().get(BINARY_DATA_OUTPUT));
        return new ResponsePlan(request.id(), order, all, binary);
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
