package dev.modelgate.plugins.openai;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Executors;

/**
 * The OpenAI-compatible stand-in of {@code scripts/bench}'s LLM rows: {@code POST /v1/chat/completions} answers a
 * fixed completion at once, or, with {@code "stream":true}, its first event at once and then {@code EVENTS - 1} more
 * {@code PACE_MS} apart, as a model generating tokens, then a usage chunk and {@code [DONE]}. The first event leaves
 * as soon as the request is read, so the time to first token a client measures is the path's own, not a model's.
 * Prints {@code port=N} once it listens.
 *
 * <pre>
 * LlmBenchUpstream EVENTS PACE_MS
 * </pre>
 */
public final class LlmBenchUpstream {

    private static final byte[] COMPLETION = ("{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion\",\"created\":"
            + "1700000000,\"model\":\"bench\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":"
            + "\"Hello\"},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":1,"
            + "\"total_tokens\":6}}").getBytes(StandardCharsets.UTF_8);
    private static final byte[] CHUNK = ("data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":"
            + "1700000000,\"model\":\"bench\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"token \"},"
            + "\"finish_reason\":null}]}\n\n").getBytes(StandardCharsets.UTF_8);

    private LlmBenchUpstream() {
    }

    public static void main(String[] args) throws IOException {
        int events = Integer.parseInt(args[0]);
        long paceMillis = Long.parseLong(args[1]);
        // As the servers in front of real models (uvicorn, Go's net/http) do: without it, a request whose headers and
        // body come in two writes waits for the delayed ACK, 40 ms, and so does an answer written in two.
        System.setProperty("sun.net.httpserver.nodelay", "true");
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 1024);
        server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        server.createContext("/", exchange -> {
            try (exchange) {
                serve(exchange, events, paceMillis);
            } catch (IOException | InterruptedException e) {
                // the client went away
            }
        });
        server.start();
        System.out.println("port=" + server.getAddress().getPort());
        System.out.flush();
    }

    private static void serve(HttpExchange exchange, int events, long paceMillis)
            throws IOException, InterruptedException {
        String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
        if (!exchange.getRequestMethod().equals("POST")) {
            exchange.sendResponseHeaders(200, -1);
            return;
        }
        if (!body.contains("\"stream\":true")) {
            exchange.getResponseHeaders().set("Content-Type", "application/json");
            exchange.sendResponseHeaders(200, COMPLETION.length);
            exchange.getResponseBody().write(COMPLETION);
            return;
        }
        exchange.getResponseHeaders().set("Content-Type", "text/event-stream");
        exchange.sendResponseHeaders(200, 0);
        OutputStream out = exchange.getResponseBody();
        for (int i = 0; i < events; i++) {
            if (i > 0) {
                Thread.sleep(paceMillis);
            }
            out.write(CHUNK);
            out.flush();
        }
        if (body.contains("\"include_usage\":true")) {
            out.write(("data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,"
                    + "\"model\":\"bench\",\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":"
                    + events + ",\"total_tokens\":" + (5 + events) + "}}\n\n").getBytes(StandardCharsets.UTF_8));
        }
        out.write("data: [DONE]\n\n".getBytes(StandardCharsets.UTF_8));
    }
}
