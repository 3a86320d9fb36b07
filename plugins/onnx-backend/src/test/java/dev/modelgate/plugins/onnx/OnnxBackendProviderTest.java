package dev.modelgate.plugins.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OrtException;
import dev.modelgate.spi.BackendProvider;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.ServiceLoader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OnnxBackendProviderTest {

    @Test
    void serviceLoaderFindsTheProviderAsTypeOnnx() {
        List<String> types = ServiceLoader.load(BackendProvider.class).stream()
                .map(provider -> provider.get().type())
                .toList();

        assertTrue(types.contains("onnx"), types::toString);
    }

    @Test
    void aMissingModelIsReportedByKey() throws Exception {
        OnnxBackends.Created created = OnnxBackends.tryCreate("{}");

        assertNull(created.backend());
        assertEquals(List.of("model: is required"), created.problems());
    }

    @Test
    void aModelFileThatDoesNotExistIsReportedByKeyWithItsAbsolutePath() throws Exception {
        OnnxBackends.Created created = OnnxBackends.tryCreate("{\"model\": \"conf/models/absent.onnx\"}");

        assertNull(created.backend());
        assertEquals(List.of("model: no model file at " + Path.of("conf/models/absent.onnx").toAbsolutePath()
                + " (a relative path resolves against the working directory)"), created.problems());
    }

    @Test
    void aClasspathModelThatDoesNotExistIsReportedByKey() throws Exception {
        OnnxBackends.Created created = OnnxBackends.tryCreate("{\"model\": \"classpath:models/absent.onnx\"}");

        assertNull(created.backend());
        assertEquals(List.of("model: no resource 'models/absent.onnx' on the class path"), created.problems());
    }

    @Test
    void settingsOutOfRangeAndUnknownKeysAreReportedByKey() throws Exception {
        OnnxBackends.Created created = OnnxBackends.tryCreate("{\"model\": \"classpath:models/demo.onnx\","
                + " \"intra-op-threads\": 0, \"max-batch\": \"many\", \"threads\": 2}");
        created.backend().close();

        assertEquals(List.of(
                "intra-op-threads: must be between 1 and 1024, but was 0",
                "max-batch: must be an integer, but was 'many'",
                "threads: unknown key; known keys here: intra-op-threads, max-batch, model"), created.problems());
    }

    @Test
    void aFileThatIsNotAnOnnxModelFailsToLoad(@TempDir Path directory) throws Exception {
        Path notAModel = Files.writeString(directory.resolve("model.onnx"), "not a model");
        String config = PredictExchange.JSON.createObjectNode().put("model", notAModel.toString()).toString();

        assertThrows(OrtException.class, () -> OnnxBackends.tryCreate(config));
    }

    @Test
    void aModelWithStringInputsIsRefusedNamingTheInput(@TempDir Path directory) throws Exception {
        int elementString = 8; // TensorProto.DataType STRING, from onnx/onnx.proto
        Path model = Files.write(directory.resolve("strings.onnx"), DemoModel.model(new DemoModel.Message()
                .message(1, DemoModel.node("identity", "Identity", new String[] {"words"}, "same_words"))
                .string(2, "strings")
                .message(11, DemoModel.valueInfo("words", elementString, "batch"))
                .message(12, DemoModel.valueInfo("same_words", elementString, "batch"))));
        String config = PredictExchange.JSON.createObjectNode().put("model", model.toString()).toString();

        IllegalArgumentException refusal =
                assertThrows(IllegalArgumentException.class, () -> OnnxBackends.tryCreate(config));
        assertEquals("'words' has element type STRING; the onnx backend serves float, double, int32 and int64"
                + " tensors", refusal.getMessage());
    }
}
