package dev.modelgate.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code examples/plugin-greeting} as a user takes it: the folder copied elsewhere, built on its own with Maven
 * against the {@code modelgate-spi} the build installed in the local repository, and its jar dropped into the
 * {@code plugins/} folder of the packaged gateway.
 */
class PluginGreetingExampleIT {

    private static final HttpClient CLIENT = HttpClient.newHttpClient();

    private static HttpResponse<String> get(int port, String name) throws Exception {
        return CLIENT.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/models/demo"))
                .header("X-Name", name).timeout(Duration.ofSeconds(30)).build(),
                HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    }

    @Test
    void theExamplePluginBuildsOnItsOwnAndServesFromThePluginsFolder(@TempDir Path dir) throws Exception {
        Path jar = ExamplePlugins.build("plugin-greeting", dir);
        Path gatewayDir = Files.createDirectory(dir.resolve("gateway"));
        Files.copy(jar,
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
