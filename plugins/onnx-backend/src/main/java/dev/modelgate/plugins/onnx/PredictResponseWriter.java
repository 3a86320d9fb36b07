package dev.modelgate.plugins.onnx;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import dev.modelgate.spi.Json;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;

/**
 * Writes a model's output tensors as the body of a TensorFlow Serving REST predict response, streaming the numbers
 * straight from the tensors' buffers. With one output the output's name is dropped; with several, each value is an
 * object keyed by output name.
 */
final class PredictResponseWriter {

    private static final JsonFactory JSON = Json.FACTORY;
    /** A guess that sizes the buffer once for typical numbers: a float's 4 bytes print as about 12 characters. */
    private static final int JSON_BYTES_PER_TENSOR_BYTE = 3;

    private PredictResponseWriter() {
    }

    /**
     * The answer to a row-format request, {@code {"predictions": [...]}}, one entry per row of the first dimension,
     * which every output must share.
     */
    static byte[] predictions(List<TensorValue> outputs) {
        return write(outputs, json -> {
            json.writeArrayFieldStart("predictions");
            long rows = outputs.getFirst().batchSize();
            for (int row = 0; row < rows; row++) {
                if (outputs.size() == 1) {
                    writeRow(json, outputs.getFirst(), row);
                } else {
                    json.writeStartObject();
                    for (TensorValue output : outputs) {
                        json.writeFieldName(output.name());
                        writeRow(json, output, row);
                    }
                    json.writeEndObject();
                }
            }
            json.writeEndArray();
        });
    }

    /** The answer to a columnar request, {@code {"outputs": ...}}, each output whole. */
    static byte[] outputs(List<TensorValue> outputs) {
        return write(outputs, json -> {
            json.writeFieldName("outputs");
            if (outputs.size() == 1) {
                writeNested(json, outputs.getFirst(), 0, 0);
            } else {
                json.writeStartObject();
                for (TensorValue output : outputs) {
                    json.writeFieldName(output.name());
                    writeNested(json, output, 0, 0);
                }
                json.writeEndObject();
            }
        });
    }

    private interface BodyWriter {
        void writeFields(JsonGenerator json) throws IOException;
    }

    private static byte[] write(List<TensorValue> outputs, BodyWriter body) {
        int tensorBytes = outputs.stream().mapToInt(output -> output.data().capacity()).sum();
        ByteArrayOutputStream out = new ByteArrayOutputStream(64 + tensorBytes * JSON_BYTES_PER_TENSOR_BYTE);
        try (JsonGenerator json = JSON.createGenerator(out)) {
            json.writeStartObject();
            body.writeFields(json);
            json.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a ByteArrayOutputStream does not fail
        }
        return out.toByteArray();
    }

    private static void writeRow(JsonGenerator json, TensorValue output, int row) throws IOException {
        writeNested(json, output, 1, row * elementsPerRow(output));
    }

    private static int elementsPerRow(TensorValue output) {
        int elements = 1;
        for (int dimension = 1; dimension < output.shape().length; dimension++) {
            elements *= (int) output.shape()[dimension];
        }
        return elements;
    }

    /** Writes dimensions {@code depth} and below, starting at element {@code index}; returns the next index. */
    private static int writeNested(JsonGenerator json, TensorValue output, int depth, int index) throws IOException {
        if (depth == output.shape().length) {
            output.type().write(json, output.data(), index);
            return index + 1;
        }
        json.writeStartArray();
        int next = index;
        for (long i = 0; i < output.shape()[depth]; i++) {
            next = writeNested(json, output, depth + 1, next);
        }
        json.writeEndArray();
        return next;
    }
}
