package dev.modelgate.plugins.openai;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import dev.modelgate.kernel.testing.RawHttp;
import dev.modelgate.kernel.testing.RunningGateway;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@code request-timeout} bounds an answer that is not streamed as a whole: an upstream that begins a JSON answer and
 * then sends nothing more does not hold the request (the call is cancelled), and the client gets the gateway's
 * backend timeout. A stream it bounds until its answer begins only: one that has not begun by then is dropped, one
 * that has runs as long as its events keep coming.
 */
class UpstreamTimeoutTest {

    private final CountDownLatch released = new CountDownLatch(1);
    /** Counts down when the gateway closed the connection of the upstream that never answers. */
    private final CountDownLatch silentDropped = new CountDownLatch(1);
    private HttpServer upstream;
    private ServerSocket silent;
    private StandInUpstream paced;
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
        // Takes the request, answers nothing, and notices when the gateway hangs up.
        silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread.ofVirtual().start(() -> {
            try (Socket socket = silent.accept(); InputStream in = socket.getInputStream()) {
                if (RawHttp.readRequest(in) && in.read() < 0) {
                    silentDropped.countDown();
                }
            } catch (java.io.IOException e) {
                // a reset is a hang-up too
                silentDropped.countDown();
            }
        });
        paced = StandInUpstream.start("paced");
        paced.pace = Duration.ofMillis(300);
        paced.events = 4;
        gateway = RunningGateway.start("""
                backends:
                  llm:
                    type: openai
                    upstreams:
                      - base-url: http://127.0.0.1:%d/v1
                        models: [stalls]
                      - base-url: http://127.0.0.1:%d/v1
                        models: [silent]
                      - base-url: %s
                        models: [paced]
                    request-timeout: 500ms
                routes:
                  - model: openai
                    backend: llm
                """.formatted(upstream.getAddress().getPort(), silent.getLocalPort(), paced.baseUrl()));
    }

    @AfterEach
    void stop() throws Exception {
        released.countDown();
        gateway.close();
        upstream.stop(0);
        silent.close();
        paced.close();
    }

    @Test
    void anAnswerThatStopsMidwayEndsAtTheRequestTimeoutWithTheBackendTimeout() throws Exception {
        HttpResponse<String> response = gateway.post("/openai/v1/chat/completions", "application/json",
                OpenAiFrontTest.chat("stalls", false));

        assertEquals(504, response.statusCode(), response.body());
        assertEquals("40004", OpenAiFrontTest.JSON.readTree(response.body()).at("/error/code").asText(),
                response.body());
    }

    @Test
    void aStreamWhoseAnswerDoesNotBeginInTimeIsDroppedAtTheRequestTimeout() throws Exception {
        HttpResponse<String> response = gateway.post("/openai/v1/chat/completions", "application/json",
                OpenAiFrontTest.chat("silent", true));

        assertEquals(504, response.statusCode(), response.body());
        assertEquals("40004", OpenAiFrontTest.JSON.readTree(response.body()).at("/error/code").asText(),
                response.body());
        assertTrue(silentDropped.await(10, TimeUnit.SECONDS), "the upstream's connection was closed");
    }

    @Test
    void aStreamThatHasBegunOutlastsTheRequestTimeout() throws Exception {
        HttpResponse<String> response = gateway.post("/openai/v1/chat/completions", "application/json",
                OpenAiFrontTest.chat("paced", true));

        assertEquals(200, response.statusCode(), response.body());
        assertTrue(response.body().contains("\"t3 \""), response.body());
        assertTrue(response.body().endsWith("data: [DONE]\n\n"), response.body());
    }
}
