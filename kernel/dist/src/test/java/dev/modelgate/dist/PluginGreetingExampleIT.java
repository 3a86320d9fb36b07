package dev.modelgate.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code examples/plugin-greeting} as a user takes it: the folder copied elsewhere, built on its own with Maven
 * against the {@code modelgate-spi} the build installed in the local repository, and its jar dropped into the
 * {@code plugins/} folder of the packaged gateway.
 */
class PluginGreetingExampleIT {

    private static final Path EXAMPLE = Path.of("../../examples/plugin-greeting").toAbsolutePath();
    private static final HttpClient CLIENT = HttpClient.newHttpClient();

    /** Copies the example's sources (not a {@code target/} left by hand) to {@code to}, a new folder. */
    private static void copySources(Path to) throws IOException {
        try (Stream<Path> files = Files.walk(EXAMPLE)) {
            files.filter(file -> !EXAMPLE.relativize(file).startsWith("target")).forEach(file -> {
                try {
                    Files.copy(file, to.resolve(EXAMPLE.relativize(file).toString()));
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        }
    }

    /** {@code mvn package} in {@code project}, offline, on the local repository this build uses. */
    private static void build(Path project) throws Exception {
        Path log = project.resolve("build.log");
        ProcessBuilder builder = new ProcessBuilder("mvn", "-o", "-B", "-q",
                "-Dmaven.repo.local=" + System.getProperty("maven.repo.local"), "package")
                .directory(project.toFile()).redirectErrorStream(true).redirectOutput(log.toFile());
        // The JDK running this test (21 or newer), whatever java the PATH finds first.
        builder.environment().put("JAVA_HOME", System.getProperty("java.home"));
        Process maven = builder.start();
        assertTrue(maven.waitFor(5, TimeUnit.MINUTES), "the example's build did not finish");
        assertEquals(0, maven.exitValue(), "the example did not build (scripts/test runs `mvn install`, which puts "
                + "modelgate-spi in the local repository):\n" + Files.readString(log));
    }

    private static HttpResponse<String> get(int port, String name) throws Exception {
        return CLIENT.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/models/demo"))
                .header("X-Name", name).timeout(Duration.ofSeconds(30)).build(),
                HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    }

    @Test
    void theExamplePluginBuildsOnItsOwnAndServesFromThePluginsFolder(@TempDir Path dir) throws Exception {
        Path project = dir.resolve("plugin-greeting");
        copySources(project);
        build(project);
        Path gatewayDir = Files.createDirectory(dir.resolve("gateway"));
        Files.copy(project.resolve("target/plugin-greeting-1.0.jar"),
                Files.createDirectory(gatewayDir.resolve("plugins")).resolve("plugin-greeting-1.0.jar"));
        // The shipped default configuration, the plugin added to its middlewares.
        Files.writeString(gatewayDir.resolve("gateway.yaml"), Files.readString(Path.of("../../conf/gateway.yaml"))
                .replace("  - type: access-log\n", "  - type: access-log\n  - type: greeting\n    text: hi\n"
                        + "    max-name-length: 8\n"));

        GatewayProcess.Result plugins = GatewayProcess.run(gatewayDir, Map.of(), "plugins");
        assertTrue(plugins.out().lines().anyMatch(line -> line.contains("greeting")
                && line.contains("plugin-greeting-1.0.jar")), plugins.out());
        try (GatewayProcess gateway = GatewayProcess.serve(gatewayDir, Map.of(), "--config", "gateway.yaml")) {
            HttpResponse<String> greeted = get(gateway.port(), "ada");
            assertEquals(200, greeted.statusCode(), greeted.body());
            assertEquals("hi, ada", greeted.headers().firstValue("X-Greeting").orElseThrow());

            HttpResponse<String> refused = get(gateway.port(), "a name too long");
            assertEquals(400, refused.statusCode(), refused.body());
            assertTrue(refused.body().contains("\"code\":29001"), refused.body());
            assertTrue(refused.body().contains("at most 8 characters"), refused.body());
        }
    }
}
