package dev.modelgate.plugins.onnx;

import static dev.modelgate.plugins.onnx.InvalidInputException.invalidRequest;
import static dev.modelgate.plugins.onnx.InvalidInputException.mismatch;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;

/**
 * Reads the inputs of a TensorFlow Serving REST predict request into tensors, checking every value against the
 * model's declared inputs.
 *
 * <p>Row format, {@code "instances": [...]}: each instance is one row; for a model with one input it is that input's
 * row, otherwise an object keyed by input name. The rows of each input must share one shape and are stacked along a
 * new first dimension, the model's batch dimension. Columnar format, {@code "inputs": ...}: the value is the whole
 * tensor of a single-input model, or an object holding each input's whole tensor by name.
 *
 * <p>Shapes are checked in full before any buffer is allocated, so a request cannot make the backend reserve more
 * memory than its JSON actually holds. Immutable and thread-safe.
 */
final class PredictRequestReader {

    private final List<TensorSpec> inputs;
    private final List<String> inputNames; // a handful: a list is all the lookups need
    private final int maxBatch;

    PredictRequestReader(List<TensorSpec> inputs, int maxBatch) {
        this.inputs = List.copyOf(inputs);
        this.inputNames = inputs.stream().map(TensorSpec::name).toList();
        this.maxBatch = maxBatch;
    }

    /** The tensors of a row-format request, one per model input, in the model's order. */
    List<TensorValue> readInstances(JsonNode instances) throws InvalidInputException {
        if (!instances.isArray() || instances.isEmpty()) {
            throw invalidRequest("'instances' must be a non-empty list");
        }
        if (instances.size() > maxBatch) {
            throw invalidRequest("at most " + maxBatch + " instances are allowed per request, but got "
                    + instances.size());
        }
        boolean named = instances.get(0).isObject();
        for (int row = 0; row < instances.size(); row++) {
            JsonNode instance = instances.get(row);
            if (instance.isObject() != named) {
                throw mismatch("instances must be all objects keyed by input name or all plain values and lists,"
                        + " but instance 0 " + (named ? "is" : "is not") + " an object and instance " + row
                        + (named ? " is not" : " is"));
            }
            if (named) {
                requireInputNames(instance, "instance " + row);
            }
        }
        if (!named && inputs.size() > 1) {
            throw mismatch("the model has inputs " + inputNames + ", so each instance must be an object keyed by"
                    + " input name");
        }
        List<TensorValue> tensors = new ArrayList<>(inputs.size());
        for (TensorSpec input : inputs) {
            tensors.add(stackRows(input, instances, named));
        }
        return tensors;
    }

    /** The tensors of a columnar request, one per model input, in the model's order. */
    List<TensorValue> readInputs(JsonNode columns) throws InvalidInputException {
        boolean named = columns.isObject();
        if (named) {
            requireInputNames(columns, "'inputs'");
        } else if (inputs.size() > 1) {
            throw mismatch("the model has inputs " + inputNames + ", so 'inputs' must be an object keyed by"
                    + " input name");
        }
        List<TensorValue> tensors = new ArrayList<>(inputs.size());
        for (TensorSpec input : inputs) {
            tensors.add(readColumn(input, named ? columns.get(input.name()) : columns));
        }
        return tensors;
    }

    private void requireInputNames(JsonNode object, String subject) throws InvalidInputException {
        for (String name : inputNames) {
            if (!object.has(name)) {
                throw mismatch(subject + " lacks input '" + name + "'; the model's inputs are " + inputNames);
            }
        }
        Iterator<String> names = object.fieldNames();
        while (names.hasNext()) {
            String name = names.next();
            if (!inputNames.contains(name)) {
                throw mismatch(subject + " has unknown input '" + name + "'; the model's inputs are " + inputNames);
            }
        }
    }

    private TensorValue stackRows(TensorSpec input, JsonNode instances, boolean named) throws InvalidInputException {
        int rows = instances.size();
        if (input.rank() == 0) {
            throw mismatch("input '" + input.name() + "' is a scalar without a batch dimension; send it in"
                    + " columnar form, as 'inputs'");
        }
        if (input.dimension(0) >= 0 && input.dimension(0) != rows) {
            throw mismatch("input '" + input.name() + "' has shape " + input.shapeText(0) + ", so it takes exactly "
                    + input.dimension(0) + " instances, but got " + rows);
        }
        long[] rowShape = shapeOf(row(instances, 0, input, named));
        for (int row = 0; row < rows; row++) {
            JsonNode value = row(instances, row, input, named);
            if (!input.fits(rowShape, 1) || !hasShape(value, rowShape, 0)) {
                throw mismatch("input '" + input.name() + "' expects each instance to have shape "
                        + input.shapeText(1) + " (the model's shape is " + input.shapeText(0) + "), but instance "
                        + row + describeMismatch(value, input, 1, rowShape));
            }
        }
        long[] shape = new long[rowShape.length + 1];
        shape[0] = rows;
        System.arraycopy(rowShape, 0, shape, 1, rowShape.length);
        ByteBuffer data = input.type().allocate(elements(shape));
        for (int row = 0; row < rows; row++) {
            JsonNode rejected = write(row(instances, row, input, named), rowShape.length, input.type(), data);
            if (rejected != null) {
                throw wrongType(input, "instance " + row, rejected);
            }
        }
        return new TensorValue(input.name(), input.type(), shape, data.flip());
    }

    private TensorValue readColumn(TensorSpec input, JsonNode value) throws InvalidInputException {
        long[] shape = shapeOf(value);
        if (!input.fits(shape, 0) || !hasShape(value, shape, 0)) {
            throw mismatch("input '" + input.name() + "' expects shape " + input.shapeText(0) + ", but its value"
                    + describeMismatch(value, input, 0, shape));
        }
        if (shape.length > 0 && shape[0] > maxBatch) {
            throw invalidRequest("at most " + maxBatch + " rows are allowed per request, but input '" + input.name()
                    + "' has " + shape[0]);
        }
        ByteBuffer data = input.type().allocate(elements(shape));
        JsonNode rejected = write(value, shape.length, input.type(), data);
        if (rejected != null) {
            throw wrongType(input, "its value", rejected);
        }
        return new TensorValue(input.name(), input.type(), shape, data.flip());
    }

    private static JsonNode row(JsonNode instances, int row, TensorSpec input, boolean named) {
        JsonNode instance = instances.get(row);
        return named ? instance.get(input.name()) : instance;
    }

    /** Why {@code value} does not have {@code expected}, which fits the declared shape from {@code from} on. */
    private static String describeMismatch(JsonNode value, TensorSpec input, int from, long[] expected) {
        long[] actual = shapeOf(value);
        if (!input.fits(actual, from)) {
            return " has shape " + Arrays.toString(actual);
        }
        if (!Arrays.equals(actual, expected)) {
            return " has shape " + Arrays.toString(actual) + " where instance 0 has " + Arrays.toString(expected)
                    + "; all instances must have one shape";
        }
        return " is ragged: its lists differ in length";
    }

    private static InvalidInputException wrongType(TensorSpec input, String subject, JsonNode rejected) {
        return mismatch("input '" + input.name() + "' expects " + input.type().description() + ", but " + subject
                + " holds " + rejected);
    }

    /** The shape of a nested list, read along its first elements; a plain value has shape {@code []}. */
    private static long[] shapeOf(JsonNode value) {
        int rank = 0;
        for (JsonNode node = value; node != null && node.isArray(); node = node.get(0)) {
            rank++;
        }
        long[] shape = new long[rank];
        JsonNode node = value;
        for (int dimension = 0; dimension < rank; dimension++) {
            shape[dimension] = node.size();
            node = node.get(0);
        }
        return shape;
    }

    /** Whether {@code node} is a regular nested list of exactly {@code shape}, with plain values at the bottom. */
    private static boolean hasShape(JsonNode node, long[] shape, int depth) {
        if (depth == shape.length) {
            return node.isValueNode();
        }
        if (!node.isArray() || node.size() != shape[depth]) {
            return false;
        }
        for (JsonNode child : node) {
            if (!hasShape(child, shape, depth + 1)) {
                return false;
            }
        }
        return true;
    }

    /**
     * Appends the values of {@code node}, a nested list of {@code rank} levels whose shape is already checked, in
     * row-major order. Returns the first value the type rejects, or {@code null} when all were written.
     */
    private static JsonNode write(JsonNode node, int rank, ElementType type, ByteBuffer out) {
        if (rank == 0) {
            return type.put(node, out) ? null : node;
        }
        for (JsonNode child : node) {
            JsonNode rejected = write(child, rank - 1, type, out);
            if (rejected != null) {
                return rejected;
            }
        }
        return null;
    }

    private static long elements(long[] shape) {
        long elements = 1;
        for (long dimension : shape) {
            elements = Math.multiplyExact(elements, dimension);
        }
        return elements;
    }
}
