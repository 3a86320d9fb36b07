package dev.modelgate.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code docs/configuration.md} is what the packaged jar's {@code config-reference} generates from the code: a key
 * added, removed or given another default, or a meaning missing, fails this test.
 */
class ConfigReferenceIT {

    private static final Path REPOSITORY = Path.of("../..").toAbsolutePath().normalize();

    @Test
    void theConfigurationReferenceIsCompleteAndFresh(@TempDir Path emptyFolder) throws Exception {
        GatewayProcess.Result result = GatewayProcess.run(emptyFolder, Map.of(), "config-reference");

        assertEquals(0, result.exitCode(), result.err());
        assertEquals(result.out(), Files.readString(REPOSITORY.resolve("docs/configuration.md")),
                "docs/configuration.md is stale: run "
                        + "`java -jar target/gateway.jar config-reference > docs/configuration.md`");
    }

    @Test
    void everyBuiltInPluginWithSettingsHasASection() throws Exception {
        String reference = Files.readString(REPOSITORY.resolve("docs/configuration.md"));

        for (String type : new String[] {"request-id", "access-log", "jwt", "api-key", "authorize", "cors", "csrf",
            "rate-limit", "circuit-breaker", "bulkhead", "retry", "http", "onnx"}) {
            assertTrue(reference.contains("\n## `" + type + "`\n"), type);
        }
    }
}
