package dev.modelgate.spi.inference;

import java.util.Map;

/**
 * An output a request asks for by name, with its parameters ({@code binary_data}, {@code classification}).
 *
 * @param parameters see {@link Parameters}
 */
public record RequestedOutput(String name, Map<String, Object> parameters) {

    public RequestedOutput {
        parameters = Parameters.copyOf(parameters);
    }

    public RequestedOutput(String name) {
        this(name, Map.of());
    }
}
