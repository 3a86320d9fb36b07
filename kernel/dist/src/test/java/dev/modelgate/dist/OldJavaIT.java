package dev.modelgate.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code java -jar gateway.jar} on a Java older than 21, run for real with this machine's Java 17 (scripts/test
 * installs it): one line saying what is needed and how, exit 1, instead of an {@code UnsupportedClassVersionError}.
 */
class OldJavaIT {

    @TempDir
    Path emptyFolder;

    /** A Java 17 under /usr/lib/jvm, found by its {@code release} file rather than by its folder's name. */
    private static Path java17() throws IOException {
        try (Stream<Path> homes = Files.list(Path.of("/usr/lib/jvm"))) {
            for (Path home : homes.sorted().toList()) {
                Path release = home.resolve("release");
                Path java = home.resolve("bin/java");
                if (Files.isRegularFile(release) && Files.isExecutable(java) && Files.readAllLines(release).stream()
                        .anyMatch(line -> line.startsWith("JAVA_VERSION=\"17.") || line.equals("JAVA_VERSION=\"17\""))) {
                    return java;
                }
            }
        }
        throw new AssertionError("no Java 17 under /usr/lib/jvm: scripts/test installs openjdk-17-jre-headless");
    }

    @Test
    void java17GetsOneLineSayingWhatIsNeededAndExits1() throws Exception {
        for (List<String> command : List.<List<String>>of(List.of(), List.of("version"))) {
            GatewayProcess.Result result = GatewayProcess.runWith(java17(), emptyFolder, Map.of(),
                    command.toArray(String[]::new));

            assertEquals(1, result.exitCode(), result.err());
            assertEquals("", result.out());
            List<String> lines = result.err().lines().toList();
            assertEquals(1, lines.size(), result.err());
            assertTrue(lines.getFirst().startsWith("modelgate: needs Java 21 or newer, but this is Java 17"),
                    lines.getFirst());
            assertTrue(lines.getFirst().contains("set JAVA_HOME") && lines.getFirst().contains("scripts/run"),
                    lines.getFirst());
        }
    }

    @Test
    void theLauncherHandsOverOnJava21AndNewer() throws Exception {
        GatewayProcess.Result result = GatewayProcess.run(emptyFolder, Map.of(), "version");

        assertEquals(0, result.exitCode(), result.err());
        assertTrue(result.out().startsWith("modelgate "), result.out());
    }
}
