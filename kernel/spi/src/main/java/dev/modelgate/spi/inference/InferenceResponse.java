package dev.modelgate.spi.inference;

import java.util.Comparator;
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
 * @param itemErrors the items the backend could not answer while it answered the others, by index, each index
 *     once; empty when every item succeeded (see {@link ItemError})
 */
public record InferenceResponse(String model, String version, String id, List<Tensor> outputs,
        Map<String, Object> parameters, List<ItemError> itemErrors) {

    public InferenceResponse {
        outputs = List.copyOf(outputs);
        parameters = Parameters.copyOf(parameters);
        itemErrors = itemErrors == null || itemErrors.isEmpty() ? List.of()
                : itemErrors.stream().sorted(Comparator.comparingInt(ItemError::index)).toList();
        for (int i = 1; i < itemErrors.size(); i++) {
            if (itemErrors.get(i).index() == itemErrors.get(i - 1).index()) {
                throw new IllegalArgumentException("item " + itemErrors.get(i).index() + " has two errors");
            }
        }
    }

    /** An answer in which every item succeeded. */
    public InferenceResponse(String model, String version, String id, List<Tensor> outputs,
            Map<String, Object> parameters) {
        this(model, version, id, outputs, parameters, List.of());
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

    /** Whether the backend failed some items (and answered the others). */
    public boolean hasItemErrors() {
        return !itemErrors.isEmpty();
    }
}
