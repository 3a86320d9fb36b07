package dev.modelgate.plugins.openai;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.modelgate.kernel.testing.RunningGateway;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * conf/examples/openai.yaml, run as its comment says against two stand-in upstreams, and driven by the official
 * {@code openai} npm package (installed into target/ by this test, with the npm on the machine).
 */
class OpenAiExampleTest {

    /** The SDK's last release that runs on Node 20 (7.x needs Node 22). */
    private static final String SDK = "openai@6.30.1";
    private static final Path SDK_DIR = Path.of("target/openai-sdk");
    private static final String KEY = "sk-example-key-9876543210";

    private StandInUpstream primary;
    private StandInUpstream fallback;
    private RunningGateway gateway;

    @BeforeAll
    static void installTheSdk() throws Exception {
        Files.createDirectories(SDK_DIR);
        if (!Files.exists(SDK_DIR.resolve("node_modules/openai/package.json"))) {
            Files.writeString(SDK_DIR.resolve("package.json"), "{\"private\":true}");
            assertEquals(0, run(List.of("npm", "install", "--no-audit", "--no-fund", "--loglevel=error", SDK),
                    Map.of()), "npm install " + SDK);
        }
        Files.copy(Path.of("src/test/node/sdk-check.mjs"), SDK_DIR.resolve("sdk-check.mjs"),
                StandardCopyOption.REPLACE_EXISTING);
    }

    /**
     * Runs {@code command} in the SDK folder within five minutes; its output goes to {@code command.log} there, and
     * into the test's report when it fails.
     */
    private static int run(List<String> command, Map<String, String> environment) throws Exception {
        Path log = SDK_DIR.resolve("command.log");
        ProcessBuilder builder = new ProcessBuilder(command).directory(SDK_DIR.toFile()).redirectErrorStream(true)
                .redirectOutput(log.toFile());
        builder.environment().putAll(environment);
        Process process = builder.start();
        if (!process.waitFor(5, TimeUnit.MINUTES)) {
            process.destroyForcibly();
            throw new IOException(command + " did not finish in five minutes: " + Files.readString(log));
        }
        if (process.exitValue() != 0) {
            System.err.println(command + " failed:\n" + Files.readString(log));
        }
        return process.exitValue();
    }

    @BeforeEach
    void start() throws Exception {
        primary = StandInUpstream.start("primary");
        fallback = StandInUpstream.start("fallback");
        ObjectNode config = (ObjectNode) new ObjectMapper(new YAMLFactory())
                .readTree(Path.of("../../conf/examples/openai.yaml").toFile());
        // Their plugins are not on this module's classpath.
        config.remove("middlewares");
        gateway = RunningGateway.start(config.toString(), null, Map.of("MODELGATE_OPENAI_BASE_URL", primary.baseUrl(),
                "MODELGATE_OPENAI_API_KEY", KEY, "MODELGATE_OPENAI_FALLBACK_URL", fallback.baseUrl()));
    }

    @AfterEach
    void stop() throws Exception {
        gateway.close();
        primary.close();
        fallback.close();
    }

    @Test
    void theExampleServesAnyModelWithTheAliasAndFallsBackToTheSecondUpstream() throws Exception {
        HttpResponse<String> aliased = gateway.post("/openai/v1/chat/completions", "application/json",
                OpenAiFrontTest.chat("fast", false));
        assertEquals(200, aliased.statusCode(), aliased.body());
        assertEquals("llama3:8b", primary.bodies.getLast().get("model").asText());
        assertEquals("Bearer " + KEY, primary.authorizations.getLast());

        primary.mode = StandInUpstream.Mode.UNAVAILABLE;
        HttpResponse<String> anyModel = gateway.post("/openai/v1/chat/completions", "application/json",
                OpenAiFrontTest.chat("qwen2.5:7b-instruct", false));
        assertEquals(200, anyModel.statusCode(), anyModel.body());
        assertTrue(anyModel.body().contains("Hello from fallback"), anyModel.body());
        assertEquals("qwen2.5:7b-instruct", fallback.bodies.getLast().get("model").asText());
        assertEquals("", fallback.authorizations.getLast(), "the fallback has no key configured");
    }

    @Test
    void theOfficialNodeSdkWorksUnchangedStreamingIncluded() throws Exception {
        assertEquals(0, run(List.of("node", "sdk-check.mjs"),
                Map.of("GATEWAY_OPENAI_URL", gateway.uri("/openai/v1").toString())), "node sdk-check.mjs");
        assertTrue(primary.authorizations.stream().allMatch(("Bearer " + KEY)::equals),
                "the SDK's own key never goes upstream: " + primary.authorizations);
        assertEquals("base64",
                primary.bodies.stream().filter(body -> body.has("input")).findFirst().orElseThrow()
                        .get("encoding_format").asText(), "the SDK asks for base64 embeddings, and gets them");
    }
}
