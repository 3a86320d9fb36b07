package dev.modelgate.plugins.tfserving;

import com.fasterxml.jackson.core.JsonParser;
import dev.modelgate.spi.CoreErrors;
import dev.modelgate.spi.RejectionException;
import dev.modelgate.spi.inference.Tensor;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Stacks rows of named values into tensors, as TF Serving does with {@code instances} (and with the examples of
 * classify and regress): each name's tensor gets shape {@code [rows] + row shape}. Every row must give the names
 * the first row gave, each with the shape it had there. Not thread-safe.
 */
final class RowStacker {

    private final JsonParser parser;
    private final Signature signature;
    private final String rowWord;
    private final Map<String, Column> columns = new LinkedHashMap<>();

    private static final class Column {
        final NestedValueReader reader;
        final ElementSink sink;
        long[] rowShape;
        int rows;

        Column(NestedValueReader reader, ElementSink sink) {
            this.reader = reader;
            this.sink = sink;
        }
    }

    /** @param rowWord what a row is called in messages: {@code instance}, {@code example} */
    RowStacker(JsonParser parser, Signature signature, String rowWord) {
        this.parser = parser;
        this.signature = signature;
        this.rowWord = rowWord;
    }

    /** Reads row {@code row}'s value of {@code name}, which starts at the parser's current token. */
    void add(int row, String name) throws IOException {
        Column column = column(row, name);
        accept(row, name, column, column.reader.read());
    }

    /** Adds row {@code row}'s value of {@code name}: one string element, already consumed. */
    void addString(int row, String name, String text) {
        Column column = column(row, name);
        accept(row, name, column, column.reader.readString(text));
    }

    /** Adds row {@code row}'s value of {@code name}: one binary element. */
    void addBytes(int row, String name, byte[] value) {
        Column column = column(row, name);
        accept(row, name, column, column.reader.readBytes(value));
    }

    /**
     * Closes row {@code row}.
     *
     * @throws RejectionException with {@link CoreErrors#INPUT_MISMATCH} when it lacks a name an earlier row gave
     */
    void endRow(int row) {
        if (row == 0) {
            signature.checkNames(columns.keySet(), rowWord + " 0");
        }
        for (Map.Entry<String, Column> entry : columns.entrySet()) {
            if (entry.getValue().rows != row + 1) {
                throw new RejectionException(CoreErrors.INPUT_MISMATCH, rowWord + " " + row + " lacks '"
                        + entry.getKey() + "', which " + rowWord + " 0 gives; every " + rowWord
                        + " must give the same names");
            }
        }
    }

    /** The stacked tensors, in the order the first row named them. */
    List<Tensor> build(int rows) {
        List<Tensor> tensors = new ArrayList<>(columns.size());
        for (Column column : columns.values()) {
            long[] shape = new long[column.rowShape.length + 1];
            shape[0] = rows;
            System.arraycopy(column.rowShape, 0, shape, 1, column.rowShape.length);
            tensors.add(column.sink.build(shape));
        }
        return tensors;
    }

    private Column column(int row, String name) {
        Column column = columns.get(name);
        if (column == null) {
            if (row > 0) {
                throw new RejectionException(CoreErrors.INPUT_MISMATCH, rowWord + " " + row + " gives '" + name
                        + "', which " + rowWord + " 0 does not; every " + rowWord + " must give the same names");
            }
            ElementSink sink = signature.sink(name);
            column = new Column(new NestedValueReader(parser, sink, name), sink);
            columns.put(name, column);
        } else if (column.rows > row) {
            throw new RejectionException(CoreErrors.INVALID_PREDICT_REQUEST,
                    rowWord + " " + row + " gives '" + name + "' twice");
        }
        return column;
    }

    private void accept(int row, String name, Column column, long[] shape) {
        if (column.rowShape == null) {
            column.rowShape = shape;
        } else if (!Arrays.equals(column.rowShape, shape)) {
            throw new RejectionException(CoreErrors.TENSOR_SHAPE_MISMATCH, rowWord + " " + row + " gives '" + name
                    + "' the shape " + Arrays.toString(shape) + ", but " + rowWord + " 0 gave it "
                    + Arrays.toString(column.rowShape) + "; every " + rowWord + " must give each the same shape");
        }
        column.rows++;
    }
}
