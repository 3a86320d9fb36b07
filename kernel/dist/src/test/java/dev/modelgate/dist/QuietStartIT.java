package dev.modelgate.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.modelgate.kernel.testing.Await;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code java -jar gateway.jar} starts, serves and stops without a warning on stderr: none from the JDK about
 * {@code sun.misc.Unsafe} (XNIO's thread pool), none from SLF4J when the Redis store's client logs.
 */
class QuietStartIT {

    private static final HttpClient CLIENT = HttpClient.newHttpClient();
    private static final Path REPOSITORY = Path.of("../..").toAbsolutePath().normalize();

    @TempDir
    Path emptyFolder;

    private static void predict(GatewayProcess gateway) throws Exception {
        HttpResponse<String> response = CLIENT.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                        + gateway.port() + "/v1/models/demo:predict")).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"instances\":[[5.1,3.5,1.4,0.2]]}")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, response.statusCode(), response.body());
    }

    /** The lines a start, one predict and a SIGTERM wrote that warn of something. */
    private static List<String> warnings(GatewayProcess gateway) throws Exception {
        try {
            predict(gateway);
        } finally {
            assertEquals(0, gateway.terminate());
        }
        return gateway.stderr().stream()
                .filter(line -> line.contains("WARNING") || line.startsWith("SLF4J") || line.contains("Unsafe"))
                .toList();
    }

    @Test
    void aNormalStartWarnsOfNothing() throws Exception {
        assertEquals(List.of(), warnings(GatewayProcess.serve(emptyFolder, Map.of())));
    }

    @Test
    void theRedisStoreLogsThroughTheGatewaysOwnLogging() throws Exception {
        int port;
        try (ServerSocket free = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = free.getLocalPort();
        }
        Process redis = new ProcessBuilder("redis-server", "--port", Integer.toString(port), "--bind", "127.0.0.1",
                "--save", "").redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        try {
            awaitListening(port);
            GatewayProcess gateway = GatewayProcess.serve(REPOSITORY, Map.of("MODELGATE_REDIS_URL",
                    "redis://127.0.0.1:" + port), "--config", "conf/examples/ratelimit-redis.yaml");

            assertEquals(List.of(), warnings(gateway));
        } finally {
            redis.destroy();
            redis.waitFor(10, TimeUnit.SECONDS);
        }
    }

    /** Waits for redis-server (scripts/test installs it) to accept connections, for at most 10 seconds. */
    private static void awaitListening(int port) {
        Await.until("redis-server listening on " + port, () -> {
            try (Socket socket = new Socket()) {
                socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 1000);
                return true;
            } catch (java.io.IOException e) {
                return false;
            }
        });
    }
}
