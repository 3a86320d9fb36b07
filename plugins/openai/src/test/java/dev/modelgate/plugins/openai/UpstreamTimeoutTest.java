package dev.modelgate.plugins.openai;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.sun.net.httpserver.HttpServer;
import dev.modelgate.kernel.testing.RunningGateway;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@code request-timeout} bounds an answer that is not streamed as a whole: an upstream that begins a JSON answer and
 * then sends nothing more does not hold the request (the call is cancelled), and the client gets the gateway's
 * backend timeout.
 */
class UpstreamTimeoutTest {

    private final CountDownLatch released = new CountDownLatch(1);
    private HttpServer upstream;
    private RunningGateway gateway;

    @BeforeEach
    void start() throws Exception {
        upstream = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        upstream.createContext("/v1/", exchange -> {
            exchange.getRequestBody().readAllBytes();
            exchange.getResponseHeaders().set("Content-Type", "application/json");
            exchange.sendResponseHeaders(200, 1000);
            OutputStream body = exchange.getResponseBody();
            body.write("{\"id\":".getBytes(StandardCharsets.UTF_8));
            body.flush();
            try {
                released.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            exchange.close();
        });
        upstream.setExecutor(java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor());
        upstream.start();
        gateway = RunningGateway.start("""
                backends:
                  llm:
                    type: openai
                    upstreams:
                      - base-url: http://127.0.0.1:%d/v1
                    request-timeout: 500ms
                routes:
                  - model: openai
                    backend: llm
                """.formatted(upstream.getAddress().getPort()));
    }

    @AfterEach
    void stop() throws Exception {
        released.countDown();
        gateway.close();
        upstream.stop(0);
    }

    @Test
    void anAnswerThatStopsMidwayEndsAtTheRequestTimeoutWithTheBackendTimeout() throws Exception {
        HttpResponse<String> response = gateway.post("/openai/v1/chat/completions", "application/json",
                OpenAiFrontTest.chat("llama3:8b", false));

        assertEquals(504, response.statusCode(), response.body());
        assertEquals("40004", OpenAiFrontTest.JSON.readTree(response.body()).at("/error/code").asText(),
                response.body());
    }
}
