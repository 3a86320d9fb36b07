package dev.modelgate.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * deploy/ci/validate-configs.sh, the GitOps CI step, with the packaged jar: it passes on this repository, naming each
 * configuration it checked, and fails on a repository with a broken one, naming the file and the key path.
 */
class ValidateConfigsScriptIT {

    private static final Path REPOSITORY = Path.of("../..").toAbsolutePath().normalize();
    private static final Path SCRIPT = REPOSITORY.resolve("deploy/ci/validate-configs.sh");

    private record Result(int exit, String out) {
    }

    private static Result validateConfigs(Path repository) throws Exception {
        ProcessBuilder builder = new ProcessBuilder("bash", SCRIPT.toString(), repository.toString())
                .redirectErrorStream(true);
        builder.environment().put("MODELGATE_JAR", GatewayProcess.JAR.toString());
        builder.environment().put("JAVA_HOME", System.getProperty("java.home"));
        Process bash = builder.start();
        bash.getOutputStream().close();
        String out = new String(bash.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(bash.waitFor(10, TimeUnit.MINUTES), "validate-configs.sh did not finish");
        return new Result(bash.exitValue(), out);
    }

    @Test
    void everyConfigurationInTheRepositoryIsValid() throws Exception {
        Result result = validateConfigs(REPOSITORY);

        assertEquals(0, result.exit(), result.out());
        for (String checked : List.of("ok      conf/gateway.yaml", "ok      conf/examples/opentelemetry.yaml",
                "ok      deploy/kubernetes/base/gateway.yaml")) {
            assertTrue(result.out().contains(checked + "\n"), checked + " in:\n" + result.out());
        }
        long examples;
        try (var files = Files.list(REPOSITORY.resolve("conf/examples"))) {
            examples = files.filter(file -> file.toString().endsWith(".yaml")).count();
        }
        // conf/gateway.yaml, every example and the base ConfigMap's file; conf/reference.yaml is documentation.
        assertTrue(result.out().endsWith("\n" + (examples + 2) + " configurations checked\n"), result.out());
    }

    @Test
    void aBrokenConfigurationFailsTheStepNamingItsFileAndKey(@TempDir Path repository) throws Exception {
        Files.createDirectories(repository.resolve("conf/examples"));
        Files.createDirectories(repository.resolve("deploy/kubernetes/overlays/eu-west"));
        Files.copy(REPOSITORY.resolve("conf/gateway.yaml"), repository.resolve("conf/gateway.yaml"));
        // A cluster's copy of the default with a typo in one key.
        Files.writeString(repository.resolve("deploy/kubernetes/overlays/eu-west/gateway.yaml"),
                Files.readString(REPOSITORY.resolve("conf/gateway.yaml"))
                        .replace("shutdown-timeout:", "shutdown-timout:"));

        Result result = validateConfigs(repository);

        assertEquals(1, result.exit(), result.out());
        assertTrue(result.out().startsWith("""
                ok      conf/gateway.yaml
                INVALID deploy/kubernetes/overlays/eu-west/gateway.yaml
                        server.shutdown-timout: unknown key; known keys here: """), result.out());
        assertTrue(result.out().endsWith("\n2 configurations checked\n"), result.out());
    }
}
