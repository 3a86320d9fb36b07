package dev.modelgate.plugins.tfserving;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import dev.modelgate.spi.CoreErrors;
import dev.modelgate.spi.RejectionException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;

/**
 * Streams one TF Serving value (a scalar, a {@code {"b64": "..."}} object or a nested list of them) from a parser
 * into an {@link ElementSink}, and works out its shape from the nesting as it goes. Not thread-safe; one reader serves
 * one tensor and may read several values into it (the rows of a stacked tensor).
 */
final class NestedValueReader {

    private final JsonParser parser;
    private final ElementSink sink;
    private final String tensor;
    private long[] dims = new long[8];
    private int rank;

    NestedValueReader(JsonParser parser, ElementSink sink, String tensor) {
        this.parser = parser;
        this.sink = sink;
        this.tensor = tensor;
    }

    /**
     * Reads the value that starts at the parser's current token, leaving the parser on its last token.
     *
     * @return the value's shape
     * @throws RejectionException with {@link CoreErrors#TENSOR_SHAPE_MISMATCH} for ragged nesting, with
     *     {@link CoreErrors#INVALID_TENSOR_VALUE} for an element the tensor cannot hold
     */
    long[] read() throws IOException {
        rank = -1;
        Arrays.fill(dims, -1);
        readAt(0);
        return Arrays.copyOf(dims, rank);
    }

    /** Adds one string element that a caller has already consumed; its shape is {@code []}. */
    long[] readString(String text) {
        sink.addBytes(text.getBytes(StandardCharsets.UTF_8));
        return new long[0];
    }

    /** Adds one binary element; its shape is {@code []}. */
    long[] readBytes(byte[] value) {
        sink.addBytes(value);
        return new long[0];
    }

    private void readAt(int depth) throws IOException {
        if (parser.currentToken() != JsonToken.START_ARRAY) {
            if (rank < 0) {
                rank = depth;
            } else if (depth != rank) {
                throw ragged();
            }
            readScalar();
            return;
        }
        if (rank >= 0 && depth >= rank) {
            throw ragged();
        }
        long length = 0;
        while (TfParsing.next(parser) != JsonToken.END_ARRAY) {
            readAt(depth + 1);
            length++;
        }
        if (rank < 0) {
            // An empty list before any element: its depth fixes the rank (a shape ending in 0).
            rank = depth + 1;
        }
        if (depth >= dims.length) {
            int old = dims.length;
            dims = Arrays.copyOf(dims, Math.max(old * 2, depth + 1));
            Arrays.fill(dims, old, dims.length, -1);
        }
        if (dims[depth] < 0) {
            dims[depth] = length;
        } else if (dims[depth] != length) {
            throw ragged();
        }
    }

    private void readScalar() throws IOException {
        switch (parser.currentToken()) {
            case VALUE_NUMBER_INT -> {
                if (parser.getNumberType() == JsonParser.NumberType.BIG_INTEGER) {
                    sink.addBigInteger(parser.getBigIntegerValue());
                } else {
                    sink.addLong(parser.getLongValue());
                }
            }
            case VALUE_NUMBER_FLOAT -> sink.addDouble(parser.getDoubleValue());
            case VALUE_TRUE -> sink.addBoolean(true);
            case VALUE_FALSE -> sink.addBoolean(false);
            case VALUE_STRING -> readString(parser.getText());
            case VALUE_EMBEDDED_OBJECT -> {
                // MessagePack's bin values: binary elements without the b64 detour.
                if (!(parser.getEmbeddedObject() instanceof byte[] bytes)) {
                    throw invalid("an extension value");
                }
                sink.addBytes(bytes);
            }
            case START_OBJECT -> sink.addBytes(readBase64Object());
            default -> throw invalid(parser.currentToken() == JsonToken.VALUE_NULL ? "null" : "an unexpected token");
        }
    }

    /** Reads {@code {"b64": "..."}}, the only object TF Serving allows inside a value. */
    private byte[] readBase64Object() throws IOException {
        if (TfParsing.next(parser) == JsonToken.FIELD_NAME && "b64".equals(parser.currentName())
                && TfParsing.next(parser) == JsonToken.VALUE_STRING) {
            String text = parser.getText();
            if (TfParsing.next(parser) == JsonToken.END_OBJECT) {
                return decodeBase64(tensor, text);
            }
        }
        throw invalid("an object other than {\"b64\": \"...\"}");
    }

    /**
     * The bytes of a {@code b64} value; padding may be left out, as TF Serving allows.
     *
     * @throws RejectionException with {@link CoreErrors#INVALID_TENSOR_VALUE} when it is not base64
     */
    static byte[] decodeBase64(String tensor, String text) {
        try {
            return Base64.getDecoder().decode(text);
        } catch (IllegalArgumentException e) {
            throw new RejectionException(CoreErrors.INVALID_TENSOR_VALUE,
                    "tensor '" + tensor + "' has a b64 value that is not valid base64: " + e.getMessage());
        }
    }

    private RejectionException ragged() {
        return new RejectionException(CoreErrors.TENSOR_SHAPE_MISMATCH, "tensor '" + tensor
                + "' is ragged: its nested lists must have the same length at each depth and end at the same depth");
    }

    private RejectionException invalid(String what) {
        return new RejectionException(CoreErrors.INVALID_TENSOR_VALUE,
                "tensor '" + tensor + "' cannot hold " + what);
    }
}
