package dev.modelgate.plugins.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import dev.modelgate.spi.CoreErrors;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A model with three inputs and three outputs, one per integer and double element type:
 * {@code doubled = counts + counts} (int64 [batch, 2]), {@code squared = scale * scale} (double [batch, 1]) and
 * {@code same_ids = ids} (int32 [batch]). Loaded from a file and served behind a real gateway.
 */
class MultiInputModelTest {

    @TempDir
    static Path directory;

    private static OnnxGateway gateway;

    @BeforeAll
    static void serveModelFromAFile() throws Exception {
        Path model = directory.resolve("multi-input.onnx");
        Files.write(model, DemoModel.multiInput());
        gateway = OnnxGateway.start(OnnxGateway.model(model));
    }

    @AfterAll
    static void stop() throws Exception {
        gateway.close();
    }

    @Test
    void namedInstancesFeedEveryInputAndEachPredictionIsKeyedByOutput() {
        JsonNode data = gateway.predict("{\"instances\": [{\"counts\": [1, 2], \"scale\": [1.5], \"ids\": 7},"
                + " {\"counts\": [3, 4], \"scale\": [-2.0], \"ids\": -1}]}");

        assertEquals("{\"predictions\":[{\"doubled\":[2,4],\"squared\":[2.25],\"same_ids\":7},"
                + "{\"doubled\":[6,8],\"squared\":[4.0],\"same_ids\":-1}]}", data.toString());
    }

    @Test
    void columnarInputsAreAnsweredWithAnObjectOfOutputs() {
        JsonNode data = gateway.predict("{\"inputs\": {\"counts\": [[1, 2]], \"scale\": [[0.5]], \"ids\": [9]}}");

        assertEquals("{\"outputs\":{\"doubled\":[[2,4]],\"squared\":[[0.25]],\"same_ids\":[9]}}",
                data.toString());
    }

    @Test
    void plainInstancesCannotFeedAModelWithSeveralInputs() {
        gateway.assertInputMismatch("{\"instances\": [[1, 2]]}",
                "the model has inputs [counts, scale, ids], so each must be given by name, in an object");
    }

    @Test
    void aFractionDoesNotFitAnIntegerInput() {
        gateway.assertRejected(CoreErrors.INVALID_TENSOR_VALUE,
                "{\"instances\": [{\"counts\": [1.5, 2], \"scale\": [1.0], \"ids\": 7}]}",
                "tensor 'counts' is INT64 and cannot hold the number 1.5, which is not an integer");
    }

    @Test
    void anIntegerOutOfRangeDoesNotFitAnInt32Input() {
        gateway.assertRejected(CoreErrors.INVALID_TENSOR_VALUE,
                "{\"inputs\": {\"counts\": [[1, 2]], \"scale\": [[1.0]], \"ids\": [3000000000]}}",
                "tensor 'ids' is INT32 and cannot hold the integer 3000000000, which is out of range");
    }

    @Test
    void instancesOfOneInputMustShareOneShape() {
        gateway.assertRejected(CoreErrors.TENSOR_SHAPE_MISMATCH,
                "{\"instances\": [{\"counts\": [1, 2], \"scale\": [1.0], \"ids\": 7},"
                        + " {\"counts\": [1, 2], \"scale\": [1.0], \"ids\": [7]}]}",
                "instance 1 gives 'ids' the shape [1], but instance 0 gave it []; every instance must give each the"
                        + " same shape");
    }
}
