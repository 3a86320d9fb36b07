package dev.modelgate.plugins.onnx;

import ai.onnxruntime.OnnxJavaType;
import dev.modelgate.spi.inference.DataType;
import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * The tensor element types the backend serves: each one an ONNX Runtime type that travels as a flat buffer of
 * fixed-size elements, and the Open Inference Protocol type that names it.
 */
enum ElementType {
    FP32(DataType.FP32, OnnxJavaType.FLOAT),
    FP64(DataType.FP64, OnnxJavaType.DOUBLE),
    FP16(DataType.FP16, OnnxJavaType.FLOAT16),
    INT8(DataType.INT8, OnnxJavaType.INT8),
    INT16(DataType.INT16, OnnxJavaType.INT16),
    INT32(DataType.INT32, OnnxJavaType.INT32),
    INT64(DataType.INT64, OnnxJavaType.INT64),
    UINT8(DataType.UINT8, OnnxJavaType.UINT8),
    BOOL(DataType.BOOL, OnnxJavaType.BOOL);

    /** The served types as error details list them: {@code FP32, FP64, ...}. */
    static final String SERVED = Arrays.stream(values()).map(Enum::name).collect(Collectors.joining(", "));

    private final DataType dataType;
    private final OnnxJavaType javaType;

    ElementType(DataType dataType, OnnxJavaType javaType) {
        this.dataType = dataType;
        this.javaType = javaType;
    }

    /** The element type for ONNX Runtime's {@code javaType}, or {@code null} when the backend does not serve it. */
    static ElementType of(OnnxJavaType javaType) {
        for (ElementType type : values()) {
            if (type.javaType == javaType) {
                return type;
            }
        }
        return null;
    }

    DataType dataType() {
        return dataType;
    }

    OnnxJavaType javaType() {
        return javaType;
    }

    /** Bytes per element, the same on both sides. */
    int byteSize() {
        return dataType.byteSize();
    }

    /**
     * Whether a tensor of {@code given} may feed an input of this type. Only floating-point inputs convert: they take
     * every integer and floating-point tensor (a JSON number typed INT64 by a decoder that had no metadata, an FP64
     * column for an FP32 model), as TensorFlow Serving converts JSON numbers to its signature's float type. Integer,
     * BOOL and FP16 inputs take their own type only: narrowing integers or reading floats as integers would change
     * values silently.
     */
    boolean takes(DataType given) {
        if (given == dataType) {
            return true;
        }
        return converts() && given != DataType.BOOL && given != DataType.BYTES;
    }

    /** Whether inputs of this type take tensors of other numeric types, converted: see {@link #takes}. */
    boolean converts() {
        return this == FP32 || this == FP64;
    }
}
