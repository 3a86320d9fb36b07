package dev.modelgate.plugins.kservev2.protobuf;

import dev.modelgate.plugins.kservev2.protobuf.inference.InferParameter;
import dev.modelgate.spi.CoreErrors;
import dev.modelgate.spi.RejectionException;
import dev.modelgate.spi.inference.Parameters;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Converts between the wire's {@code map<string, InferParameter>} and {@link Parameters}' values: {@code bool_param}
 * is a {@link Boolean}, {@code int64_param} and {@code uint64_param} a {@link Long}, {@code string_param} a
 * {@link String}, {@code double_param} a {@link Double}. Stateless.
 */
final class InferParameters {

    private InferParameters() {
    }

    /**
     * The parameters of a message, in its order. A {@code uint64_param} above 2^63 keeps its 64 bits, so it reads as a
     * negative {@link Long} and is written back unchanged by an {@code int64_param}.
     *
     * @throws RejectionException with {@link CoreErrors#INVALID_PREDICT_REQUEST} for a parameter without a value
     */
    static Map<String, Object> read(Map<String, InferParameter> wire) {
        if (wire.isEmpty()) {
            return Map.of();
        }
        Map<String, Object> parameters = new LinkedHashMap<>();
        wire.forEach((name, parameter) -> parameters.put(name, valueOf(name, parameter)));
        return parameters;
    }

    /** {@code parameters} as the wire's map. */
    static Map<String, InferParameter> write(Map<String, Object> parameters) {
        if (parameters.isEmpty()) {
            return Map.of();
        }
        Map<String, InferParameter> wire = new LinkedHashMap<>();
        parameters.forEach((name, value) -> wire.put(name, parameterOf(value)));
        return wire;
    }

    private static Object valueOf(String name, InferParameter parameter) {
        return switch (parameter.getParameterChoiceCase()) {
            case BOOL_PARAM -> parameter.getBoolParam();
            case INT64_PARAM -> parameter.getInt64Param();
            case UINT64_PARAM -> parameter.getUint64Param();
            case STRING_PARAM -> parameter.getStringParam();
            case DOUBLE_PARAM -> parameter.getDoubleParam();
            case PARAMETERCHOICE_NOT_SET -> throw new RejectionException(CoreErrors.INVALID_PREDICT_REQUEST,
                    "parameter '" + name + "' has no value");
        };
    }

    private static InferParameter parameterOf(Object value) {
        InferParameter.Builder parameter = InferParameter.newBuilder();
        // Parameters.copyOf has already limited the values to these four types.
        return switch (value) {
            case Boolean bool -> parameter.setBoolParam(bool).build();
            case Long number -> parameter.setInt64Param(number).build();
            case Double number -> parameter.setDoubleParam(number).build();
            case String text -> parameter.setStringParam(text).build();
            default -> throw new IllegalArgumentException("not a parameter value: " + value.getClass().getName());
        };
    }
}
