package dev.modelgate.spi.inference;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Protocol parameters ({@code "parameters": {...}} in the Open Inference Protocol, {@code InferParameter} in gRPC):
 * names mapped to a {@link String}, {@link Long}, {@link Double} or {@link Boolean}, in the order given.
 */
public final class Parameters {

    private Parameters() {
    }

    /**
     * An unmodifiable copy of {@code parameters}.
     *
     * @throws IllegalArgumentException for a value of another type
     */
    public static Map<String, Object> copyOf(Map<String, Object> parameters) {
        if (parameters == null || parameters.isEmpty()) {
            return Map.of();
        }
        Map<String, Object> copy = new LinkedHashMap<>(parameters);
        copy.forEach((name, value) -> {
            if (!(value instanceof String || value instanceof Long || value instanceof Double
                    || value instanceof Boolean)) {
                throw new IllegalArgumentException("parameter '" + name + "' must be a string, long, double or"
                        + " boolean, but was " + (value == null ? "null" : value.getClass().getSimpleName()));
            }
        });
        return Collections.unmodifiableMap(copy);
    }
}
