package dev.modelgate.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** SIGHUP reloads the packaged jar's configuration, as systemd's {@code ExecReload} asks it to. */
class HotReloadIT {

    private static final HttpClient CLIENT = HttpClient.newHttpClient();
    private static final String CONFIG = """
            server:
              address: 127.0.0.1
            backends:
              demo:
                type: onnx
                model: classpath:models/demo.onnx
            routes:
              - model: demo
                backend: demo
            """;

    @TempDir
    Path folder;

    private static int status(GatewayProcess gateway, String model) throws Exception {
        return CLIENT.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gateway.port() + "/v1/models/"
                + model)).build(), HttpResponse.BodyHandlers.ofString()).statusCode();
    }

    @Test
    void sighupReloadsTheConfigurationAndTheProcessServesOn() throws Exception {
        Path config = Files.writeString(folder.resolve("gateway.yaml"), CONFIG);
        GatewayProcess gateway = GatewayProcess.serve(folder, Map.of(), "--config", config.toString());
        try {
            assertEquals(404, status(gateway, "iris"));
            Files.writeString(config, CONFIG + """
                      - model: iris
                        backend: demo
                    """);

            gateway.sighup();

            assertTrue(gateway.awaitErrLine("reloaded (SIGHUP)").contains(": 0 parts built"),
                    "the unchanged backend was carried over, not built again");
            assertEquals(200, status(gateway, "iris"));
            assertEquals(200, status(gateway, "demo"));
            assertTrue(gateway.alive(), "SIGHUP does not stop the gateway");
        } finally {
            assertEquals(0, gateway.terminate(), "SIGTERM still drains and exits 0");
        }
    }
}
