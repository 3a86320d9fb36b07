package dev.modelgate.spi.inference;

import java.util.List;
import java.util.Map;

/**
 * One inference call in the protocol-neutral form: what every front decodes into and every inference backend takes.
 * Immutable.
 *
 * @param model the model as the client named it
 * @param version the model version the client asked for, or {@code null} for the backend's choice
 * @param id the client's request id, echoed in the response; {@code null} when none
 * @param inputs the input tensors, batch dimension included in each shape
 * @param outputs the outputs asked for; empty means every output, with default settings
 * @param parameters request parameters, see {@link Parameters}
 */
public record InferenceRequest(String model, String version, String id, List<Tensor> inputs,
        List<RequestedOutput> outputs, Map<String, Object> parameters) {

    public InferenceRequest {
        inputs = List.copyOf(inputs);
        outputs = outputs == null ? List.of() : List.copyOf(outputs);
        parameters = Parameters.copyOf(parameters);
    }

    /** The input named {@code name}, or {@code null}. */
    public Tensor input(String name) {
        for (Tensor input : inputs) {
            if (input.name().equals(name)) {
                return input;
            }
        }
        return null;
    }

    /**
     * The rows (instances) the call carries: the first dimension its inputs share, or {@code -1} when it has no
     * input, an input of rank 0, or inputs that disagree on it.
     */
    public int rows() {
        long rows = -1;
        for (Tensor input : inputs) {
            if (input.rank() == 0 || rows >= 0 && input.dimension(0) != rows) {
                return -1;
            }
            rows = input.dimension(0);
        }
        return rows > Integer.MAX_VALUE ? -1 : (int) rows;
    }

    /** The same call with other inputs (renamed to the model's names, say). */
    public InferenceRequest withInputs(List<Tensor> newInputs) {
        return new InferenceRequest(model, version, id, newInputs, outputs, parameters);
    }
}
