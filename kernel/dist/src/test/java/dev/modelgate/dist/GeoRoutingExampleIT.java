package dev.modelgate.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.modelgate.kernel.testing.TestBackend;
import dev.modelgate.kernel.testing.TestBackend.Reply;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code examples/plugin-geo-routing}, a balancer plugin, as a user takes it: built on its own, its jar dropped into
 * the packaged gateway's {@code plugins/} folder, and named in a backend's {@code balancer}. Four model server
 * stand-ins, one per region and device, count what reaches them.
 */
class GeoRoutingExampleIT {

    private static final HttpClient CLIENT = HttpClient.newHttpClient();

    /** The instances by name: {@code eu-mobile}, {@code eu-desktop}, {@code us-mobile}, {@code us-desktop}. */
    private static Map<String, TestBackend> startInstances() throws Exception {
        Map<String, TestBackend> instances = new LinkedHashMap<>();
        for (String name : List.of("eu-mobile", "eu-desktop", "us-mobile", "us-desktop")) {
            instances.put(name, TestBackend.start(request -> Reply.json(200, "{\"predictions\":[[0.5]]}")));
        }
        return instances;
    }

    /** A configuration routing model {@code geo} to the instances, balanced by the plugin. */
    static String geoConfig(Map<String, TestBackend> instances) {
        return config(instances, """
                    balancer: geo-routing
                    geo-region-header: X-Client-Region
                """);
    }

    /** A configuration routing model {@code geo} to the instances, balanced as {@code balancing} says. */
    private static String config(Map<String, TestBackend> instances, String balancing) {
        StringBuilder yaml = new StringBuilder("""
                backends:
                  geo:
                    type: http
                """).append(balancing).append("    instances:\n");
        instances.forEach((name, backend) -> yaml.append("      - {name: ").append(name).append(", url: '")
                .append(backend.url("/predict")).append("', locality: ")
                .append(name.startsWith("eu") ? "eu-west-1" : "us-east-1").append(", labels: {device: ")
                .append(name.substring(3)).append("}}\n"));
        return yaml.append("""
                routes:
                  - model: geo
                    backend: geo
                """).toString();
    }

    private static void predict(int port, int times, String... headers) throws Exception {
        for (int i = 0; i < times; i++) {
            HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
                    + "/v1/models/geo:predict")).timeout(Duration.ofSeconds(30))
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"instances\":[[1.0]]}"));
            if (headers.length > 0) {
                request.headers(headers);
            }
            HttpResponse<String> response = CLIENT.send(request.build(),
                    HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
            assertEquals(200, response.statusCode(), response.body());
        }
    }

    /**
     * Asserts that requests to the gateway on {@code port} go where the plugin's routing says: by region header,
     * device header or User-Agent, falling back to the device alone for a region no instance serves.
     */
    static void assertRoutedByRegionAndDevice(int port, Map<String, TestBackend> instances) throws Exception {
        List<Integer> before = new ArrayList<>(instances.values().stream().map(TestBackend::calls).toList());
        predict(port, 5, "X-Client-Region", "eu", "X-Device", "mobile");
        predict(port, 3, "X-Client-Region", "US", "User-Agent",
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148");
        predict(port, 4, "X-Client-Region", "us-east-1");
        predict(port, 2, "X-Client-Region", "ap-south-1", "X-Device", "desktop");
        List<TestBackend> backends = List.copyOf(instances.values());
        int[] calls = new int[backends.size()];
        for (int i = 0; i < calls.length; i++) {
            calls[i] = backends.get(i).calls() - before.get(i);
        }
        assertEquals(5, calls[0], "eu and mobile by header reach eu-mobile only");
        assertEquals(3, calls[2], "a mobile User-Agent in the US reaches us-mobile");
        assertEquals(1, calls[1], "a region no instance serves falls back to the device's instances, in turn");
        assertEquals(4 + 1, calls[3], "a US client without a device header is a desktop; and the other in turn");
    }

    @Test
    void theBalancerPluginBuildsOnItsOwnAndRoutesByRegionAndDevice(@TempDir Path dir) throws Exception {
        Path jar = ExamplePlugins.build("plugin-geo-routing", dir);
        Path gatewayDir = Files.createDirectory(dir.resolve("gateway"));
        Files.copy(jar, Files.createDirectory(gatewayDir.resolve("plugins")).resolve(jar.getFileName()));
        Map<String, TestBackend> instances = startInstances();
        try {
            Files.writeString(gatewayDir.resolve("geo.yaml"), geoConfig(instances));

            GatewayProcess.Result plugins = GatewayProcess.run(gatewayDir, Map.of(), "plugins");
            assertTrue(plugins.out().lines().anyMatch(line -> line.startsWith("balancer")
                    && line.contains("geo-routing") && line.contains("plugin-geo-routing-1.0.jar")), plugins.out());
            try (GatewayProcess gateway = GatewayProcess.serve(gatewayDir, Map.of(), "--config", "geo.yaml")) {
                assertRoutedByRegionAndDevice(gateway.port(), instances);
            }
        } finally {
            instances.values().forEach(TestBackend::close);
        }
    }

    /** Issue 13's plugin pickup: the jar dropped into a running gateway's folder and used after a reload. */
    @Test
    void theBalancerPluginDroppedIntoARunningGatewayIsUsedAfterAReload(@TempDir Path dir) throws Exception {
        Path jar = ExamplePlugins.build("plugin-geo-routing", dir);
        Path gatewayDir = Files.createDirectory(dir.resolve("gateway"));
        Path plugins = Files.createDirectory(gatewayDir.resolve("plugins"));
        Map<String, TestBackend> instances = startInstances();
        try {
            Path config = Files.writeString(gatewayDir.resolve("geo.yaml"),
                    config(instances, "    balancer: round-robin\n"));
            try (GatewayProcess gateway = GatewayProcess.serve(gatewayDir, Map.of(), "--config", "geo.yaml")) {
                predict(gateway.port(), 8, "X-Client-Region", "eu", "X-Device", "mobile");
                assertTrue(instances.values().stream().allMatch(instance -> instance.calls() == 2),
                        "round-robin spreads over every instance before the plugin is there");

                Files.copy(jar, plugins.resolve(jar.getFileName()));
                Files.writeString(config, geoConfig(instances));
                gateway.sighup();

                gateway.awaitErrLine("reloaded (SIGHUP)");
                assertRoutedByRegionAndDevice(gateway.port(), instances);
            }
        } finally {
            instances.values().forEach(TestBackend::close);
        }
    }
}
