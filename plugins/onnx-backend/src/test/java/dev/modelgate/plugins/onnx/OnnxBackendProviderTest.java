package dev.modelgate.plugins.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.modelgate.spi.BackendProvider;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.ServiceLoader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The onnx backend's configuration, as a real gateway reports it when it refuses to start. */
class OnnxBackendProviderTest {

    @Test
    void serviceLoaderFindsTheProviderAsTypeOnnx() {
        List<String> types = ServiceLoader.load(BackendProvider.class).stream()
                .map(provider -> provider.get().type())
                .toList();

        assertTrue(types.contains("onnx"), types::toString);
    }

    @Test
    void aMissingModelIsReportedByKey() {
        assertEquals(List.of("backends.onnx.model: is required"), OnnxGateway.problemsStarting());
    }

    @Test
    void aModelFileThatDoesNotExistIsReportedByKeyWithItsAbsolutePath() {
        List<String> problems = OnnxGateway.problemsStarting(OnnxGateway.model("conf/models/absent.onnx"));

        assertEquals(List.of("backends.onnx.model: no model file at "
                + Path.of("conf/models/absent.onnx").toAbsolutePath()
                + " (a relative path resolves against the working directory)"), problems);
    }

    @Test
    void aClasspathModelThatDoesNotExistIsReportedByKey() {
        List<String> problems = OnnxGateway.problemsStarting(OnnxGateway.model("classpath:models/absent.onnx"));

        assertEquals(List.of("backends.onnx.model: no resource 'models/absent.onnx' on the class path"), problems);
    }

    @Test
    void settingsOutOfRangeAndUnknownKeysAreReportedByKey() {
        List<String> problems = OnnxGateway.problemsStarting(OnnxGateway.model(OnnxGateway.DEMO_MODEL),
                "intra-op-threads: 0", "max-batch: many", "threads: 2");

        assertEquals(List.of(
                "backends.onnx.intra-op-threads: must be between 1 and 1024, but was 0",
                "backends.onnx.max-batch: must be an integer, but was 'many'",
                "backends.onnx.threads: unknown key; known keys here: filters, intra-op-threads, max-batch, model,"
                        + " type"),
                problems);
    }

    @Test
    void aFileThatIsNotAnOnnxModelFailsToLoad(@TempDir Path directory) throws Exception {
        Path notAModel = Files.writeString(directory.resolve("model.onnx"), "not a model");

        List<String> problems = OnnxGateway.problemsStarting(OnnxGateway.model(notAModel));

        assertEquals(1, problems.size(), problems::toString);
        assertTrue(problems.getFirst().startsWith("backends.onnx: cannot build: Error code - ORT_INVALID_PROTOBUF"),
                problems::toString);
    }

    @Test
    void aModelWithStringInputsIsRefusedNamingTheInput(@TempDir Path directory) throws Exception {
        int elementString = 8; // TensorProto.DataType STRING, from onnx/onnx.proto
        Path model = Files.write(directory.resolve("strings.onnx"), DemoModel.model(new DemoModel.Message()
                .message(1, DemoModel.node("identity", "Identity", new String[] {"words"}, "same_words"))
                .string(2, "strings")
                .message(11, DemoModel.valueInfo("words", elementString, "batch"))
                .message(12, DemoModel.valueInfo("same_words", elementString, "batch"))));

        assertEquals(List.of("backends.onnx: cannot build: 'words' has element type STRING; the onnx backend serves"
                + " FP32, FP64, FP16, INT8, INT16, INT32, INT64, UINT8, BOOL"), OnnxGateway.problemsStarting(OnnxGateway.model(model)));
    }
}
