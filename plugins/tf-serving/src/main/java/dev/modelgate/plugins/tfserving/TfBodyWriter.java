package dev.modelgate.plugins.tfserving;

import com.fasterxml.jackson.core.JsonGenerator;
import dev.modelgate.spi.CoreErrors;
import dev.modelgate.spi.RejectionException;
import dev.modelgate.spi.inference.DataType;
import dev.modelgate.spi.inference.InferenceRequest;
import dev.modelgate.spi.inference.Tensor;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

/**
 * Writes TF Serving bodies: the answers to predict, classify and regress, and predict requests for a TF Serving
 * backend. Stateless.
 *
 * <p>A classify answer pairs {@code classes} (labels) with {@code scores}; with scores alone the labels are
 * {@code ""}, as TF Serving writes them, and with classes alone the scores are 0.
 *
 * <p>An answer the model's outputs cannot be shaped into (outputs of different batch sizes for a row request, a
 * classify answer without {@code classes} or {@code scores}) is refused with {@link CoreErrors#INPUT_MISMATCH} (400),
 * as TF Serving refuses a call its model's signature does not serve.
 */
final class TfBodyWriter {

    static final String SIGNATURE_NAME = "signature_name";
    private static final String CLASSES = "classes";
    private static final String SCORES = "scores";

    private TfBodyWriter() {
    }

    /** The answer to a request of {@code form} with these outputs. */
    static void writeAnswer(JsonGenerator generator, Form form, List<Tensor> outputs) throws IOException {
        generator.writeStartObject();
        switch (form) {
            case ROW -> {
                generator.writeFieldName("predictions");
                writeRows(generator, outputs);
            }
            case COLUMNAR -> {
                generator.writeFieldName("outputs");
                writeColumns(generator, outputs);
            }
            case CLASSIFY -> {
                generator.writeFieldName("results");
                writeClassifications(generator, outputs);
            }
            case REGRESS -> {
                generator.writeFieldName("results");
                writeRegressions(generator, outputs);
            }
        }
        generator.writeEndObject();
    }

    /** A columnar predict request: {@code {"signature_name"?, "inputs": ...}}. */
    static void writeRequest(JsonGenerator generator, InferenceRequest request) throws IOException {
        generator.writeStartObject();
        if (request.parameters().get(SIGNATURE_NAME) instanceof String signatureName) {
            generator.writeStringField(SIGNATURE_NAME, signatureName);
        }
        generator.writeFieldName("inputs");
        List<Tensor> inputs = request.inputs();
        if (inputs.size() == 1 && inputs.getFirst().name().isEmpty()) {
            TensorWriter.writeValue(generator, inputs.getFirst());
        } else {
            writeNamed(generator, inputs);
        }
        generator.writeEndObject();
    }

    /** One output: its value, name dropped; several: an object of them by name. */
    private static void writeColumns(JsonGenerator generator, List<Tensor> outputs) throws IOException {
        if (outputs.size() == 1) {
            TensorWriter.writeValue(generator, outputs.getFirst());
        } else {
            writeNamed(generator, outputs);
        }
    }

    private static void writeNamed(JsonGenerator generator, List<Tensor> tensors) throws IOException {
        generator.writeStartObject();
        for (Tensor tensor : tensors) {
            generator.writeFieldName(tensor.name());
            TensorWriter.writeValue(generator, tensor);
        }
        generator.writeEndObject();
    }

    /** One entry per batch row: the row's value for one output, an object of them by name for several. */
    private static void writeRows(JsonGenerator generator, List<Tensor> outputs) throws IOException {
        int rows = batchSize(outputs);
        generator.writeStartArray();
        for (int row = 0; row < rows; row++) {
            if (outputs.size() == 1) {
                TensorWriter.writeRow(generator, outputs.getFirst(), row);
                continue;
            }
            generator.writeStartObject();
            for (Tensor output : outputs) {
                generator.writeFieldName(output.name());
                TensorWriter.writeRow(generator, output, row);
            }
            generator.writeEndObject();
        }
        generator.writeEndArray();
    }

    /** {@code [[[label, score], ...], ...]} from {@code classes} (labels) and {@code scores}, one list per example. */
    private static void writeClassifications(JsonGenerator generator, List<Tensor> outputs) throws IOException {
        Tensor classes = find(outputs, CLASSES);
        Tensor scores = find(outputs, SCORES);
        if (classes == null && scores == null) {
            throw signatureMismatch("a classify answer needs an output named 'classes' or 'scores', but the outputs are "
                    + outputs.stream().map(Tensor::name).toList());
        }
        if (classes != null && classes.type() != DataType.BYTES) {
            throw signatureMismatch("the 'classes' output must be strings, but is " + classes.type());
        }
        Tensor shaping = scores != null ? scores : classes;
        int examples = batchSize(classes == null || scores == null ? List.of(shaping) : List.of(classes, scores));
        if (classes != null && scores != null && classes.elementCount() != scores.elementCount()) {
            throw signatureMismatch("'classes' has shape " + Arrays.toString(classes.shape())
                    + " but 'scores' has " + Arrays.toString(scores.shape()));
        }
        int perExample = examples == 0 ? 0 : shaping.elementCount() / examples;
        generator.writeStartArray();
        for (int example = 0, index = 0; example < examples; example++) {
            generator.writeStartArray();
            for (int k = 0; k < perExample; k++, index++) {
                generator.writeStartArray();
                generator.writeString(classes == null ? "" : label(classes, index));
                if (scores == null) {
                    generator.writeNumber(0.0f);
                } else {
                    TensorWriter.writeElement(generator, scores, index);
                }
                generator.writeEndArray();
            }
            generator.writeEndArray();
        }
        generator.writeEndArray();
    }

    /** {@code [v, ...]}, one value per example, from the single output of shape {@code [n]} or {@code [n, 1]}. */
    private static void writeRegressions(JsonGenerator generator, List<Tensor> outputs) throws IOException {
        if (outputs.size() != 1) {
            throw signatureMismatch("a regress answer needs exactly one output, but there are " + outputs.size());
        }
        Tensor output = outputs.getFirst();
        if (output.rank() < 1 || output.rank() > 2 || output.rank() == 2 && output.dimension(1) != 1) {
            throw signatureMismatch("a regress output must have shape [n] or [n, 1], but '" + output.name() + "' has "
                    + Arrays.toString(output.shape()));
        }
        generator.writeStartArray();
        for (int i = 0; i < output.elementCount(); i++) {
            TensorWriter.writeElement(generator, output, i);
        }
        generator.writeEndArray();
    }

    /** The shared 0-th dimension of {@code outputs}, as a row answer needs. */
    private static int batchSize(List<Tensor> outputs) {
        for (Tensor output : outputs) {
            if (output.rank() == 0) {
                throw signatureMismatch("inconsistent batch size: output '" + output.name() + "' has no batch dimension");
            }
        }
        for (Tensor output : outputs) {
            if (output.dimension(0) != outputs.getFirst().dimension(0)) {
                throw signatureMismatch("inconsistent batch size: outputs " + outputs.stream()
                        .map(t -> "'" + t.name() + "' " + t.dimension(0)).toList() + " differ in their 0-th dimension");
            }
        }
        return outputs.isEmpty() ? 0 : (int) outputs.getFirst().dimension(0);
    }

    private static String label(Tensor classes, int index) {
        return new String(TensorWriter.bytesAt(classes, index), StandardCharsets.UTF_8);
    }

    private static Tensor find(List<Tensor> outputs, String name) {
        for (Tensor output : outputs) {
            if (output.name().equals(name)) {
                return output;
            }
        }
        return null;
    }

    private static RejectionException signatureMismatch(String message) {
        return new RejectionException(CoreErrors.INPUT_MISMATCH, message);
    }
}
