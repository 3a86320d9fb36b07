package dev.modelgate.plugins.kservev2;

import com.fasterxml.jackson.core.JsonGenerator;
import dev.modelgate.spi.inference.Tensor;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * Writes the parts of Open Inference Protocol messages that requests, responses and metadata share, to a Jackson
 * streaming generator over JSON or MessagePack. Tensor data is written element by element from the tensor's
 * accessors, flat and row-major.
 */
final class WireWriter {

    private WireWriter() {
    }

    /** {@code "parameters": {...}}, or nothing when {@code parameters} is empty. */
    static void parameters(JsonGenerator generator, Map<String, Object> parameters) throws IOException {
        if (parameters.isEmpty()) {
            return;
        }
        generator.writeObjectFieldStart("parameters");
        for (Map.Entry<String, Object> parameter : parameters.entrySet()) {
            generator.writeFieldName(parameter.getKey());
            switch (parameter.getValue()) {
                case String text -> generator.writeString(text);
                case Long number -> generator.writeNumber(number);
                case Double number -> generator.writeNumber(number);
                case Boolean flag -> generator.writeBoolean(flag);
                default -> throw new IllegalArgumentException("Parameters hold only strings, longs, doubles and"
                        + " booleans, but '" + parameter.getKey() + "' is " + parameter.getValue().getClass());
            }
        }
        generator.writeEndObject();
    }

    static void shape(JsonGenerator generator, long[] shape) throws IOException {
        generator.writeArray(shape, 0, shape.length);
    }

    /**
     * {@code {"name", "datatype", "shape", "data"}}, or with {@code binary} {@code "parameters": {"binary_data_size"}}
     * in place of the data, which the caller then appends to the binary section.
     */
    static void tensor(JsonGenerator generator, Tensor tensor, boolean binary) throws IOException {
        generator.writeStartObject();
        generator.writeStringField("name", tensor.name());
        generator.writeStringField("datatype", tensor.type().name());
        generator.writeFieldName("shape");
        shape(generator, tensor.shape());
        if (binary) {
            parameters(generator, Map.of(WireReader.BINARY_DATA_SIZE, BinarySection.size(tensor)));
        } else {
            generator.writeFieldName("data");
            data(generator, tensor);
        }
        generator.writeEndObject();
    }

    /**
     * The elements as a flat array. BYTES elements that are valid UTF-8 go as strings; others as binary values, which
     * only MessagePack carries (JSON callers send such tensors in the binary section, see {@link #isText}).
     */
    static void data(JsonGenerator generator, Tensor tensor) throws IOException {
        int count = tensor.elementCount();
        generator.writeStartArray(tensor, count);
        for (int i = 0; i < count; i++) {
            switch (tensor.type()) {
                case BOOL -> generator.writeBoolean(tensor.booleanAt(i));
                // Written as floats so that 1.1f prints as 1.1, not as the double nearest to it.
                case FP16, FP32 -> generator.writeNumber((float) tensor.doubleAt(i));
                case FP64 -> generator.writeNumber(tensor.doubleAt(i));
                case UINT64 -> {
                    long bits = tensor.longAt(i);
                    if (bits >= 0) {
                        generator.writeNumber(bits);
                    } else {
                        generator.writeNumber(new BigInteger(Long.toUnsignedString(bits)));
                    }
                }
                case BYTES -> {
                    ByteBuffer element = tensor.bytesAt(i);
                    String text = utf8(element);
                    if (text != null) {
                        generator.writeString(text);
                    } else {
                        byte[] bytes = new byte[element.remaining()];
                        element.get(bytes);
                        generator.writeBinary(bytes);
                    }
                }
                default -> generator.writeNumber(tensor.longAt(i));
            }
        }
        generator.writeEndArray();
    }

    /** Whether every element of a BYTES tensor is valid UTF-8, so that JSON can carry it as strings. */
    static boolean isText(Tensor tensor) {
        for (int i = 0; i < tensor.elementCount(); i++) {
            if (utf8(tensor.bytesAt(i)) == null) {
                return false;
            }
        }
        return true;
    }

    /** The element as text, or {@code null} when it is not valid UTF-8. */
    private static String utf8(ByteBuffer element) {
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        try {
            return decoder.decode(element.duplicate()).toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }
}
