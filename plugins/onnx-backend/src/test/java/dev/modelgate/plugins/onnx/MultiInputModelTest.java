package dev.modelgate.plugins.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import dev.modelgate.plugins.onnx.DemoModel.Message;
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
        Files.write(model, DemoModel.model(new Message()
                .message(1, DemoModel.node("add", "Add", new String[] {"counts", "counts"}, "doubled"))
                .message(1, DemoModel.node("mul", "Mul", new String[] {"scale", "scale"}, "squared"))
                .message(1, DemoModel.node("identity", "Identity", new String[] {"ids"}, "same_ids"))
                .string(2, "multi-input")
                .message(11, DemoModel.valueInfo("counts", DemoModel.ELEMENT_INT64, "batch", 2))
                .message(11, DemoModel.valueInfo("scale", DemoModel.ELEMENT_DOUBLE, "batch", 1))
                .message(11, DemoModel.valueInfo("ids", DemoModel.ELEMENT_INT32, "batch"))
                .message(12, DemoModel.valueInfo("doubled", DemoModel.ELEMENT_INT64, "batch", 2))
                .message(12, DemoModel.valueInfo("squared", DemoModel.ELEMENT_DOUBLE, "batch", 1))
                .message(12, DemoModel.valueInfo("same_ids", DemoModel.ELEMENT_INT32, "batch"))));
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
                "the model has inputs [counts, scale, ids], so each instance must be an object keyed by input name");
    }

    @Test
    void aFractionIsAnInputMismatchForAnIntegerInput() {
        gateway.assertInputMismatch("{\"instances\": [{\"counts\": [1.5, 2], \"scale\": [1.0], \"ids\": 7}]}",
                "input 'counts' expects int64 integers, but instance 0 holds 1.5");
    }

    @Test
    void anIntegerOutOfRangeIsAnInputMismatchForAnInt32Input() {
        gateway.assertInputMismatch("{\"inputs\": {\"counts\": [[1, 2]], \"scale\": [[1.0]], \"ids\": [3000000000]}}",
                "input 'ids' expects int32 integers, but its value holds 3000000000");
    }

    @Test
    void instancesOfOneInputMustShareOneShape() {
        gateway.assertInputMismatch("{\"instances\": [{\"counts\": [1, 2], \"scale\": [1.0], \"ids\": 7},"
                        + " {\"counts\": [1, 2], \"scale\": [1.0], \"ids\": [7]}]}",
                "input 'ids' expects each instance to have shape [] (the model's shape is [-1]), but instance 1"
                        + " has shape [1]");
    }
}
