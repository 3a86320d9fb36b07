package dev.modelgate.spi.inference;

import java.util.List;
import java.util.Map;

/**
 * The answer to an {@link InferenceRequest}. Immutable.
 *
 * @param model the model that answered
 * @param version the version that answered, or {@code null} when the backend does not say
 * @param id the request's id, or {@code null}
 * @param outputs the output tensors, in the model's order or the order asked for
 * @param parameters response parameters, see {@link Parameters}
 */
public record InferenceResponse(String model, String version, String id, List<Tensor> outputs,
        Map<String, Object> parameters) {

    public InferenceResponse {
        outputs = List.copyOf(outputs);
        parameters = Parameters.copyOf(parameters);
    }

    /** The output named {@code name}, or {@code null}. */
    public Tensor output(String name) {
        for (Tensor output : outputs) {
            if (output.name().equals(name)) {
                return output;
            }
        }
        return null;
    }
}
