package dev.modelgate.plugins.retry;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.modelgate.kernel.testing.RawHttp;
import dev.modelgate.kernel.testing.RunningGateway;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * "Could not reach the backend" and "the backend broke its answer" are told apart: a request that reached the
 * backend, whose answer then broke off, is a 502 (40012), sent again only for an idempotent route; a backend that
 * could not be reached is a 503 (40003, see the http backend's tests).
 */
class BrokenAnswerTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    private static void assertBrokenAnswer(RunningGateway gateway) throws Exception {
        var response = gateway.post("/v1/models/remote:predict", "application/json", "{\"instances\":[[1.0]]}");
        assertEquals(502, response.statusCode(), response.body());
        assertEquals(40012, JSON.readTree(response.body()).get("code").asInt(), response.body());
    }

    /** A model server that reads each request, starts an answer with {@code start}, then resets the connection. */
    private static final class BreakingBackend implements AutoCloseable {
        private final ServerSocket server;
        private final AtomicInteger requests = new AtomicInteger();

        BreakingBackend(String start) throws IOException {
            server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
            Thread.ofVirtual().start(() -> {
                while (!server.isClosed()) {
                    try {
                        Socket socket = server.accept();
                        Thread.ofVirtual().start(() -> breakOff(socket, start));
                    } catch (IOException e) {
                        return; // closed
                    }
                }
            });
        }

        private void breakOff(Socket socket, String start) {
            try (socket) {
                RawHttp.readRequest(socket.getInputStream());
                requests.incrementAndGet();
                OutputStream out = socket.getOutputStream();
                out.write(start.getBytes(StandardCharsets.ISO_8859_1));
                out.flush();
                socket.setSoLinger(true, 0); // close with a reset
            } catch (IOException e) {
                // the gateway hung up
            }
        }

        String url() {
            return "http://127.0.0.1:" + server.getLocalPort() + "/v1/models/remote:predict";
        }

        @Override
        public void close() throws IOException {
            server.close();
        }
    }

    private static String config(String url, boolean idempotent) {
        return """
                backends:
                  remote:
                    type: http
                    url: %s
                    filters:
                      - type: retry
                        attempts: 2
                        base-backoff: 1ms
                routes:
                  - model: remote
                    backend: remote
                    idempotent: %s
                """.formatted(url, idempotent);
    }

    @Test
    void anAnswerCutMidwayIs502AndNotSentAgainForANonIdempotentRoute() throws Exception {
        try (BreakingBackend backend = new BreakingBackend("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                        + "Content-Length: 100\r\n\r\n{\"predictions\":");
                RunningGateway gateway = RunningGateway.start(config(backend.url(), false))) {
            assertBrokenAnswer(gateway);
            assertEquals(1, backend.requests.get(), "the request reached the backend once, and only once");
        }
    }

    @Test
    void aResetBeforeAnyAnswerIs502TooSinceTheRequestReachedTheBackend() throws Exception {
        try (BreakingBackend backend = new BreakingBackend("");
                RunningGateway gateway = RunningGateway.start(config(backend.url(), false))) {
            assertBrokenAnswer(gateway);
            assertEquals(1, backend.requests.get());
        }
    }

    @Test
    void anIdempotentRouteSendsItAgain() throws Exception {
        try (BreakingBackend backend = new BreakingBackend("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{");
                RunningGateway gateway = RunningGateway.start(config(backend.url(), true))) {
            assertBrokenAnswer(gateway);
            assertEquals(2, backend.requests.get(), "retried once");
        }
    }
}
