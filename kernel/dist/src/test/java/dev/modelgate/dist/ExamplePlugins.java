package dev.modelgate.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The example plugins of {@code examples/} as a user takes them: a folder copied elsewhere and built on its own with
 * Maven, against the {@code modelgate-spi} the build installed in the local repository.
 */
final class ExamplePlugins {

    private static final Path EXAMPLES = Path.of("../../examples").toAbsolutePath().normalize();

    private ExamplePlugins() {
    }

    /**
     * Copies {@code examples/NAME} into {@code workDir}, builds it with {@code mvn package} and returns its jar,
     * {@code target/NAME-1.0.jar}.
     */
    static Path build(String name, Path workDir) throws Exception {
        Path project = workDir.resolve(name);
        copySources(EXAMPLES.resolve(name), project);
        Path log = project.resolve("build.log");
        ProcessBuilder builder = new ProcessBuilder("mvn", "-o", "-B", "-q",
                "-Dmaven.repo.local=" + System.getProperty("maven.repo.local"), "package")
                .directory(project.toFile()).redirectErrorStream(true).redirectOutput(log.toFile());
        // The JDK running this test (21 or newer), whatever java the PATH finds first.
        builder.environment().put("JAVA_HOME", System.getProperty("java.home"));
        Process maven = builder.start();
        assertTrue(maven.waitFor(5, TimeUnit.MINUTES), "the example " + name + "'s build did not finish");
        assertEquals(0, maven.exitValue(), "the example " + name + " did not build (scripts/test runs `mvn "
                + "install`, which puts modelgate-spi in the local repository):\n" + Files.readString(log));
        return project.resolve("target/" + name + "-1.0.jar");
    }

    /** Copies the example's sources (not a {@code target/} left by hand) to {@code to}, a new folder. */
    private static void copySources(Path example, Path to) throws IOException {
        try (Stream<Path> files = Files.walk(example)) {
            files.filter(file -> !example.relativize(file).startsWith("target")).forEach(file -> {
                try {
                    Files.copy(file, to.resolve(example.relativize(file).toString()));
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        }
    }
}
