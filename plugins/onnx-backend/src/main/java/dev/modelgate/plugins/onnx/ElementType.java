package dev.modelgate.plugins.onnx;

import ai.onnxruntime.OnnxJavaType;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** The tensor element types the backend serves, and how each one travels between JSON and a tensor's bytes. */
enum ElementType {

    FLOAT("FP32", OnnxJavaType.FLOAT, Float.BYTES, "float numbers") {
        @Override
        boolean put(JsonNode value, ByteBuffer out) {
            if (!value.isNumber()) {
                return false;
            }
            out.putFloat(value.floatValue());
            return true;
        }

        @Override
        void write(JsonGenerator json, ByteBuffer data, int index) throws IOException {
            json.writeNumber(data.getFloat(index * Float.BYTES));
        }
    },

    DOUBLE("FP64", OnnxJavaType.DOUBLE, Double.BYTES, "double numbers") {
        @Override
        boolean put(JsonNode value, ByteBuffer out) {
            if (!value.isNumber()) {
                return false;
            }
            out.putDouble(value.doubleValue());
            return true;
        }

        @Override
        void write(JsonGenerator json, ByteBuffer data, int index) throws IOException {
            json.writeNumber(data.getDouble(index * Double.BYTES));
        }
    },

    INT32("INT32", OnnxJavaType.INT32, Integer.BYTES, "int32 integers") {
        @Override
        boolean put(JsonNode value, ByteBuffer out) {
            if (!value.isIntegralNumber() || !value.canConvertToInt()) {
                return false;
            }
            out.putInt(value.intValue());
            return true;
        }

        @Override
        void write(JsonGenerator json, ByteBuffer data, int index) throws IOException {
            json.writeNumber(data.getInt(index * Integer.BYTES));
        }
    },

    INT64("INT64", OnnxJavaType.INT64, Long.BYTES, "int64 integers") {
        @Override
        boolean put(JsonNode value, ByteBuffer out) {
            if (!value.isIntegralNumber() || !value.canConvertToLong()) {
                return false;
            }
            out.putLong(value.longValue());
            return true;
        }

        @Override
        void write(JsonGenerator json, ByteBuffer data, int index) throws IOException {
            json.writeNumber(data.getLong(index * Long.BYTES));
        }
    };

    private final String datatype;
    private final OnnxJavaType javaType;
    private final int bytes;
    private final String description;

    ElementType(String datatype, OnnxJavaType javaType, int bytes, String description) {
        this.datatype = datatype;
        this.javaType = javaType;
        this.bytes = bytes;
        this.description = description;
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

    /** The KServe v2 name of the type, as metadata reports it: {@code FP32}, {@code INT64}. */
    String datatype() {
        return datatype;
    }

    OnnxJavaType javaType() {
        return javaType;
    }

    /** What the JSON values of an input of this type must be, for error details: {@code float numbers}. */
    String description() {
        return description;
    }

    /** A direct buffer in native order for {@code elements} values, as ONNX Runtime reads it without a copy. */
    ByteBuffer allocate(long elements) {
        return ByteBuffer.allocateDirect(Math.toIntExact(elements * bytes)).order(ByteOrder.nativeOrder());
    }

    /** Appends {@code value} to {@code out}; false, writing nothing, when the value is not of this type. */
    abstract boolean put(JsonNode value, ByteBuffer out);

    /** Writes the element at {@code index} (counted in elements, not bytes) of {@code data}. */
    abstract void write(JsonGenerator json, ByteBuffer data, int index) throws IOException;
}
