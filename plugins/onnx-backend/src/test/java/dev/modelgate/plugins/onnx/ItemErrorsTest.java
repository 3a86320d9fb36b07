package dev.modelgate.plugins.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The in-process ONNX backend answers an explicit batch per item: a real gateway serving a model that looks rows up in
 * a table ({@code Gather}), where an index beyond the table fails ONNX Runtime's whole run. The other rows are answered,
 * and the failed one gets its own status in the envelope's {@code data.items}.
 */
class ItemErrorsTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int ELEMENT_FLOAT = 1;
    private static final int ELEMENT_INT64 = 7;

    /** Input {@code ids}, int64 {@code [batch, 1]}; output {@code vectors}, float {@code [batch, 1, 2]}: row i of T. */
    private static byte[] lookupModel() {
        float[] table = {0, 0.5f, 1, 1.5f, 2, 2.5f, 3, 3.5f};
        return DemoModel.model(new DemoModel.Message()
                .message(1, DemoModel.node("lookup", "Gather", new String[] {"T", "ids"}, "vectors"))
                .string(2, "lookup")
                .message(5, DemoModel.floatTensor("T", new long[] {4, 2}, table))
                .message(11, DemoModel.valueInfo("ids", ELEMENT_INT64, "batch", 1))
                .message(12, DemoModel.valueInfo("vectors", ELEMENT_FLOAT, "batch", 1, 2)));
    }

    @Test
    void aRowOutsideTheTableFailsAloneAndTheOthersAreAnswered(@TempDir Path directory) throws Exception {
        Path model = Files.write(directory.resolve("lookup.onnx"), lookupModel());
        try (OnnxGateway gateway = OnnxGateway.start(OnnxGateway.model(model))) {
            HttpResponse<String> mixed = gateway.post("{\"instances\":[[1],[9],[3]]}");
            HttpResponse<String> allBad = gateway.post("{\"instances\":[[7],[9]]}");

            assertEquals(200, mixed.statusCode(), mixed::body);
            JsonNode envelope = JSON.readTree(mixed.body());
            assertEquals("1 of 3 items failed", envelope.path("message").asText());
            JsonNode items = envelope.path("data").path("items");
            assertEquals(0, items.get(0).path("code").asInt(), mixed::body);
            assertEquals(20007, items.get(1).path("code").asInt(), mixed::body);
            assertTrue(items.get(1).path("message").asText().contains("out of data bounds"), mixed::body);
            assertEquals(0, items.get(2).path("code").asInt(), mixed::body);
            JsonNode predictions = envelope.path("data").path("predictions");
            assertEquals("[[1.0,1.5]]", predictions.get(0).toString());
            assertEquals("[[3.0,3.5]]", predictions.get(2).toString());
            assertEquals(400, allBad.statusCode(), allBad::body);
            assertEquals(20007, JSON.readTree(allBad.body()).path("code").asInt(), allBad::body);
        }
    }
}
