package dev.modelgate.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * scripts/lib.sh's build_gateway_jar, as scripts/run uses it on a fresh clone: it says what it does while Maven
 * works, one line per module, and shows Maven's whole output when the build fails. Run with a stand-in for mvn on
 * PATH (the real build is what every other test here is made by), in a copy of the scripts with no jar yet.
 */
class BuildScriptTest {

    private static final Path SCRIPTS = Path.of("../../scripts").toAbsolutePath().normalize();

    @TempDir
    Path clone;

    private record Result(int exit, String err) {
    }

    /** Runs build_gateway_jar with an {@code mvn} that prints Maven's module lines and then runs {@code ending}. */
    private Result build(String ending) throws Exception {
        Files.createDirectories(clone.resolve("scripts"));
        Files.copy(SCRIPTS.resolve("lib.sh"), clone.resolve("scripts/lib.sh"));
        Path bin = Files.createDirectories(clone.resolve("bin"));
        Path mvn = Files.writeString(bin.resolve("mvn"), """
                #!/usr/bin/env bash
                echo "[INFO] Scanning for projects..."
                echo "[INFO] Building Modelgate plugin SPI 0.1.0-SNAPSHOT                             [1/2]"
                echo "[INFO] Building Modelgate gateway.jar 0.1.0-SNAPSHOT                            [2/2]"
                %s
                """.formatted(ending));
        Files.setPosixFilePermissions(mvn, PosixFilePermissions.fromString("rwxr-xr-x"));
        ProcessBuilder builder = new ProcessBuilder("bash", "-c", "source scripts/lib.sh && build_gateway_jar")
                .directory(clone.toFile()).redirectOutput(ProcessBuilder.Redirect.DISCARD);
        builder.environment().put("PATH", bin + java.io.File.pathSeparator + System.getenv("PATH"));
        Process bash = builder.start();
        bash.getOutputStream().close();
        String err = new String(bash.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(bash.waitFor(30, TimeUnit.SECONDS), "build_gateway_jar did not finish");
        return new Result(bash.exitValue(), err);
    }

    @Test
    void theBuildSaysWhatItIsDoingModuleByModule() throws Exception {
        Result result = build("mkdir -p target && touch target/gateway.jar");

        assertEquals(0, result.exit(), result.err());
        assertEquals(List.of(
                "modelgate: building target/gateway.jar with Maven, tests skipped (a first build also downloads the "
                        + "dependencies: a minute or more)",
                "modelgate:   [1/2] Modelgate plugin SPI",
                "modelgate:   [2/2] Modelgate gateway.jar",
                "modelgate: built target/gateway.jar"), result.err().lines().toList());
    }

    @Test
    void aFailedBuildShowsMavensWholeOutputAndStops() throws Exception {
        Result result = build("echo '[ERROR] COMPILATION ERROR'; exit 1");

        assertEquals(1, result.exit(), result.err());
        assertTrue(result.err().contains("[INFO] Scanning for projects...\n"), result.err());
        assertTrue(result.err().contains("[ERROR] COMPILATION ERROR\n"), result.err());
        assertTrue(result.err().endsWith("modelgate: the build failed (Maven's output above)\n"), result.err());
    }
}
