package dev.modelgate.plugins.kservev2;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.util.TokenBuffer;
import dev.modelgate.spi.CoreErrors;
import dev.modelgate.spi.RejectionException;
import dev.modelgate.spi.inference.DataType;
import dev.modelgate.spi.inference.Tensor;
import dev.modelgate.spi.inference.TensorBuilder;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads the parts of Open Inference Protocol messages that requests, responses and metadata share, from a Jackson
 * streaming parser over JSON or MessagePack: parameters, shapes, and tensors whose {@code data} goes element by element
 * into a {@link TensorBuilder}, never through lists of boxed numbers.
 *
 * <p>Every method starts on the current token (the value to read) and leaves the parser on that value's last token.
 * Structural problems throw {@link RejectionException} with {@link CoreErrors#INVALID_PREDICT_REQUEST} naming the
 * place ({@code inputs[1].shape}); values that do not fit a data type throw the builder's codes. Syntax errors surface
 * as the parser's {@link IOException}, for the codec to map by format. Unknown fields are skipped, as the protocol
 * adds optional fields over time.
 */
final class WireReader {

    static final String BINARY_DATA_SIZE = "binary_data_size";

    private WireReader() {
    }

    static RejectionException invalid(String detail) {
        return new RejectionException(CoreErrors.INVALID_PREDICT_REQUEST, detail);
    }

    static void expect(JsonParser parser, JsonToken token, String where, String what) {
        if (parser.currentToken() != token) {
            throw invalid(where + " must be " + what);
        }
    }

    /** A string value. */
    static String text(JsonParser parser, String where) throws IOException {
        expect(parser, JsonToken.VALUE_STRING, where, "a string");
        return parser.getText();
    }

    /** A list of strings. */
    static List<String> texts(JsonParser parser, String where) throws IOException {
        expect(parser, JsonToken.START_ARRAY, where, "an array of strings");
        List<String> texts = new ArrayList<>();
        while (parser.nextToken() != JsonToken.END_ARRAY) {
            texts.add(text(parser, where + "[" + texts.size() + "]"));
        }
        return texts;
    }

    /**
     * A {@code parameters} object: strings, numbers (integral as {@link Long}, else {@link Double}) and booleans, in
     * the order given.
     */
    static Map<String, Object> parameters(JsonParser parser, String where) throws IOException {
        expect(parser, JsonToken.START_OBJECT, where, "an object");
        Map<String, Object> parameters = new LinkedHashMap<>();
        while (parser.nextToken() == JsonToken.FIELD_NAME) {
            String name = parser.currentName();
            JsonToken token = parser.nextToken();
            Object value = switch (token) {
                case VALUE_STRING -> parser.getText();
                case VALUE_TRUE, VALUE_FALSE -> token == JsonToken.VALUE_TRUE;
                case VALUE_NUMBER_INT -> {
                    if (parser.getNumberType() == JsonParser.NumberType.BIG_INTEGER) {
                        throw invalid(where + "." + name + " is an integer beyond the range of int64");
                    }
                    yield parser.getLongValue();
                }
                case VALUE_NUMBER_FLOAT -> parser.getDoubleValue();
                default -> throw invalid(where + "." + name + " must be a string, number or boolean");
            };
            parameters.put(name, value);
        }
        return parameters;
    }

    /** A shape: integers, -1 allowed for a variable dimension (metadata), rejected later by tensors. */
    static long[] shape(JsonParser parser, String where) throws IOException {
        expect(parser, JsonToken.START_ARRAY, where, "an array of integers");
        long[] shape = new long[4];
        int rank = 0;
        while (parser.nextToken() != JsonToken.END_ARRAY) {
            if (parser.currentToken() != JsonToken.VALUE_NUMBER_INT
                    || parser.getNumberType() == JsonParser.NumberType.BIG_INTEGER) {
                throw invalid(where + "[" + rank + "] must be an integer");
            }
            if (rank == shape.length) {
                shape = Arrays.copyOf(shape, rank * 2);
            }
            shape[rank++] = parser.getLongValue();
        }
        return Arrays.copyOf(shape, rank);
    }

    /** The tensors of an {@code inputs} or {@code outputs} array named {@code list}. */
    static List<WireTensor> tensors(JsonParser parser, String list) throws IOException {
        expect(parser, JsonToken.START_ARRAY, list, "an array");
        List<WireTensor> tensors = new ArrayList<>();
        while (parser.nextToken() != JsonToken.END_ARRAY) {
            tensors.add(tensor(parser, list + "[" + tensors.size() + "]"));
        }
        return tensors;
    }

    /**
     * One tensor object. Its {@code data} streams straight into a builder when {@code name} and {@code datatype} came
     * first, as every client we know sends them; otherwise it is buffered as tokens until they are known.
     */
    static WireTensor tensor(JsonParser parser, String where) throws IOException {
        expect(parser, JsonToken.START_OBJECT, where, "an object");
        String name = null;
        DataType type = null;
        long[] shape = null;
        Map<String, Object> parameters = Map.of();
        TensorBuilder builder = null;
        TokenBuffer early = null;
        while (parser.nextToken() == JsonToken.FIELD_NAME) {
            String field = parser.currentName();
            parser.nextToken();
            switch (field) {
                case "name" -> name = text(parser, where + ".name");
                case "datatype" -> type = DataType.parse(text(parser, where + ".datatype"));
                case "shape" -> shape = shape(parser, where + ".shape");
                case "parameters" -> parameters = parameters(parser, where + ".parameters");
                case "data" -> {
                    if (name != null && type != null) {
                        builder = Tensor.builder(name, type);
                        data(parser, builder, where);
                    } else {
                        early = TokenBuffer.asCopyOfValue(parser);
                    }
                }
                default -> parser.skipChildren();
            }
        }
        require(name, where, "name");
        require(shape, where, "shape");
        require(type, where, "datatype");
        if (early != null) {
            builder = Tensor.builder(name, type);
            try (JsonParser replay = early.asParser()) {
                replay.nextToken();
                data(replay, builder, where);
            }
        }
        Object binarySize = parameters.get(BINARY_DATA_SIZE);
        if (binarySize == null) {
            require(builder, where, "data");
            return WireTensor.inline(builder.build(shape));
        }
        if (builder != null) {
            throw invalid(where + " has both 'data' and parameters." + BINARY_DATA_SIZE);
        }
        if (!(binarySize instanceof Long size) || size < 0) {
            throw invalid(where + ".parameters." + BINARY_DATA_SIZE + " must be a non-negative integer");
        }
        return WireTensor.binary(name, type, shape, size);
    }

    private static void require(Object value, String where, String field) {
        if (value == null) {
            throw invalid(where + ": missing '" + field + "'");
        }
    }

    /** Appends a {@code data} array, nested or flat, row-major, to {@code builder}. */
    static void data(JsonParser parser, TensorBuilder builder, String where) throws IOException {
        expect(parser, JsonToken.START_ARRAY, where + ".data", "an array");
        int depth = 0;
        JsonToken token = parser.currentToken();
        while (true) {
            switch (token) {
                case START_ARRAY -> depth++;
                case END_ARRAY -> depth--;
                case VALUE_NUMBER_INT -> {
                    if (parser.getNumberType() == JsonParser.NumberType.BIG_INTEGER) {
                        builder.addBigInteger(parser.getBigIntegerValue());
                    } else {
                        builder.addLong(parser.getLongValue());
                    }
                }
                case VALUE_NUMBER_FLOAT -> builder.addDouble(parser.getDoubleValue());
                case VALUE_TRUE -> builder.addBoolean(true);
                case VALUE_FALSE -> builder.addBoolean(false);
                case VALUE_STRING -> builder.addBytes(parser.getText().getBytes(StandardCharsets.UTF_8));
                // MessagePack's bin family: BYTES elements that are not text.
                case VALUE_EMBEDDED_OBJECT -> builder.addBytes(parser.getBinaryValue());
                default -> throw new RejectionException(CoreErrors.INVALID_TENSOR_VALUE, where + ".data holds "
                        + (token == JsonToken.VALUE_NULL ? "null" : "an object") + ", which no tensor can hold");
            }
            if (depth == 0) {
                return;
            }
            token = parser.nextToken();
        }
    }
}
