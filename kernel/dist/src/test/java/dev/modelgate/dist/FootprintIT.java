package dev.modelgate.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.modelgate.kernel.testing.TestBackend;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the jar costs a machine: only its own platform's native libraries in it, and nothing of ONNX Runtime loaded
 * by a gateway whose configuration has no {@code onnx} backend.
 */
class FootprintIT {

    private static final HttpClient CLIENT = HttpClient.newHttpClient();
    /** The build's -Dmodelgate.platform (failsafe passes it on): ONNX Runtime's name of one platform, or all. */
    private static final String PLATFORM = java.util.Objects.requireNonNull(System.getProperty("modelgate.platform"),
            "the system property modelgate.platform");
    private static final long MAX_SINGLE_PLATFORM_JAR_BYTES = 40_000_000;

    @TempDir
    Path folder;

    @Test
    void theJarCarriesOnlyItsPlatformsOnnxRuntimeLibraries() throws Exception {
        Set<String> platforms = new TreeSet<>();
        try (ZipFile jar = new ZipFile(GatewayProcess.JAR.toFile())) {
            jar.stream().map(ZipEntry::getName).filter(name -> name.startsWith("ai/onnxruntime/native/"))
                    .map(name -> name.split("/")).filter(parts -> parts.length > 4)
                    .forEach(parts -> platforms.add(parts[3]));
        }

        if (PLATFORM.equals("all")) {
            assertEquals(Set.of("linux-aarch64", "linux-x64", "osx-aarch64", "osx-x64", "win-x64"), platforms);
        } else {
            assertEquals(Set.of(PLATFORM), platforms);
            long size = Files.size(GatewayProcess.JAR);
            assertTrue(size <= MAX_SINGLE_PLATFORM_JAR_BYTES, "gateway.jar is " + size + " bytes");
        }
    }

    @Test
    void aGatewayWithoutAnOnnxBackendNeverLoadsOnnxRuntime() throws Exception {
        try (TestBackend backend = TestBackend.start(request -> TestBackend.Reply.json(200,
                "{\"predictions\":[[0.1,0.9]]}"))) {
            Path config = folder.resolve("gateway.yaml");
            Files.writeString(config, String.join("\n",
                    "backends:",
                    "  remote:",
                    "    type: http",
                    "    url: " + backend.url("/v1/models/remote:predict"),
                    "routes:",
                    "  - model: remote",
                    "    backend: remote",
                    ""));

            List<String> loaded = classesLoadedServing(config, "remote");

            assertTrue(loaded.contains("dev.modelgate.plugins.onnx.OnnxBackendProvider"),
                    "the onnx plugin is there, its provider found: " + loaded.size() + " classes");
            assertEquals(List.of(), loaded.stream().filter(name -> name.startsWith("ai.onnxruntime.")).toList());
        }
    }

    @Test
    void theShippedConfigurationServesTheDemoModelWithOnnxRuntime() throws Exception {
        List<String> loaded = classesLoadedServing(null, "demo");

        assertTrue(loaded.contains("ai.onnxruntime.OrtSession"), loaded.size() + " classes");
    }

    /**
     * Starts the jar (with {@code config}, else the shipped default) logging every class it loads, predicts once
     * through {@code model} and stops it; returns the names of the classes loaded.
     */
    private List<String> classesLoadedServing(Path config, String model) throws Exception {
        Path log = folder.resolve("classes.log");
        // The java launcher reads JDK_JAVA_OPTIONS: the jar is started exactly as operators start it otherwise.
        Map<String, String> environment = Map.of("JDK_JAVA_OPTIONS", "-Xlog:class+load=info:file=" + log);
        GatewayProcess gateway = config == null ? GatewayProcess.serve(folder, environment)
                : GatewayProcess.serve(folder, environment, "--config", config.toString());
        try {
            HttpResponse<String> response = CLIENT.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                            + gateway.port() + "/v1/models/" + model + ":predict"))
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"instances\":[[5.1,3.5,1.4,0.2]]}")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, response.statusCode(), response.body());
        } finally {
            assertEquals(0, gateway.terminate());
        }
        // Lines such as "[0.321s][info][class,load] ai.onnxruntime.OrtSession source: file:/.../gateway.jar".
        return Files.readAllLines(log).stream().filter(line -> line.contains("[class,load] "))
                .map(line -> line.substring(line.indexOf("[class,load] ") + "[class,load] ".length()).split(" ")[0])
                .toList();
    }
}
