package dev.modelgate.plugins.openai;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A stand-in OpenAI-compatible server on loopback: chat completions (streamed or not, with usage), completions,
 * embeddings and the model list, at a configurable pace between streamed events, or a configured failure. It records
 * what it received.
 */
final class StandInUpstream implements AutoCloseable {

    /** How the next calls are answered. */
    enum Mode {
        SERVE,
        /** 503 with an OpenAI error body. */
        UNAVAILABLE,
        /** 429 with an OpenAI error body. */
        RATE_LIMITED,
        /** 400 with an OpenAI error body whose message carries a stack trace. */
        REJECT,
        /** 400 with the flat error body of older vLLM servers. */
        FLAT_ERROR,
        /** 502 with an HTML page, as a proxy in front of a dead server answers. */
        HTML,
        /** Streams two events, then cuts the connection. */
        CUT_STREAM,
        /** Streams two events, then sends nothing until it is closed. */
        STALL
    }

    private static final ObjectMapper JSON = new ObjectMapper();

    private final HttpServer server;
    private final String name;
    volatile Mode mode = Mode.SERVE;
    volatile Duration pace = Duration.ZERO;
    volatile int events = 3;
    final List<JsonNode> bodies = new CopyOnWriteArrayList<>();
    final List<String> authorizations = new CopyOnWriteArrayList<>();
    final AtomicReference<String> lastPath = new AtomicReference<>();
    /** Counts down when writing a stream failed: the gateway hung up on it. */
    final java.util.concurrent.CountDownLatch streamAbandoned = new java.util.concurrent.CountDownLatch(1);
    private final java.util.concurrent.CountDownLatch closed = new java.util.concurrent.CountDownLatch(1);

    private StandInUpstream(String name) throws IOException {
        this.name = name;
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        server.createContext("/v1/", exchange -> {
            try (exchange) {
                serve(exchange);
            } catch (IOException e) {
                // the gateway hung up, or the test cut the stream
            }
        });
        server.start();
    }

    static StandInUpstream start(String name) throws IOException {
        return new StandInUpstream(name);
    }

    /** The base URL the OpenAI paths go under. */
    String baseUrl() {
        return "http://127.0.0.1:" + server.getAddress().getPort() + "/v1";
    }

    int calls() {
        return authorizations.size();
    }

    private void serve(HttpExchange exchange) throws IOException {
        byte[] request = exchange.getRequestBody().readAllBytes();
        String path = exchange.getRequestURI().getPath().substring("/v1/".length());
        lastPath.set(path);
        String authorization = exchange.getRequestHeaders().getFirst("Authorization");
        authorizations.add(authorization == null ? "" : authorization);
        JsonNode body = request.length == 0 ? JSON.createObjectNode() : JSON.readTree(request);
        bodies.add(body);
        switch (mode) {
            case UNAVAILABLE -> json(exchange, 503, error("the server is overloaded", "server_error"));
            case RATE_LIMITED -> {
                exchange.getResponseHeaders().set("Retry-After", "1");
                json(exchange, 429, error("slow down", "rate_limit_exceeded"));
            }
            case REJECT -> json(exchange, 400, error("bad prompt\n  at com.example.Model.run(Model.java:12)",
                    "invalid_prompt"));
            case FLAT_ERROR -> json(exchange, 400, "{\"object\":\"error\",\"message\":\"max_tokens is too large\","
                    + "\"type\":\"BadRequestError\",\"param\":null,\"code\":400}");
            case HTML -> {
                exchange.getResponseHeaders().set("Content-Type", "text/html");
                byte[] page = "<html><body>502 Bad Gateway</body></html>".getBytes(StandardCharsets.UTF_8);
                exchange.sendResponseHeaders(502, page.length);
                exchange.getResponseBody().write(page);
            }
            case SERVE, CUT_STREAM, STALL -> answer(exchange, path, body);
        }
    }

    private void answer(HttpExchange exchange, String path, JsonNode body) throws IOException {
        String model = body.path("model").asText();
        if (path.equals("models")) {
            json(exchange, 200, "{\"object\":\"list\",\"data\":[{\"id\":\"llama3:8b\",\"object\":\"model\","
                    + "\"created\":1700000000,\"owned_by\":\"" + name + "\"}]}");
        } else if (path.startsWith("models/")) {
            json(exchange, 200, "{\"id\":\"" + path.substring(7) + "\",\"object\":\"model\",\"created\":1700000000,"
                    + "\"owned_by\":\"" + name + "\"}");
        } else if (path.equals("embeddings")) {
            json(exchange, 200, "{\"object\":\"list\",\"data\":[{\"object\":\"embedding\",\"index\":0,"
                    + "\"embedding\":" + embedding(body.path("encoding_format").asText()) + "}],"
                    + "\"model\":\"" + model + "\","
                    + "\"usage\":{\"prompt_tokens\":2,\"total_tokens\":2}}");
        } else if (body.path("stream").asBoolean()) {
            stream(exchange, model, body.at("/stream_options/include_usage").asBoolean());
        } else {
            json(exchange, 200, "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion\",\"created\":1700000000,"
                    + "\"model\":\"" + model + "\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\","
                    + "\"content\":\"Hello from " + name + "\"},\"logprobs\":null,\"finish_reason\":\"stop\"}],"
                    + "\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":3,\"total_tokens\":8}}");
        }
    }

    /** The embedding {@code [0.25, -0.5, 1.0]}, as floats or as base64 of little-endian float32, as asked. */
    private static String embedding(String encodingFormat) {
        float[] values = {0.25f, -0.5f, 1.0f};
        if (!encodingFormat.equals("base64")) {
            return "[0.25,-0.5,1.0]";
        }
        java.nio.ByteBuffer bytes = java.nio.ByteBuffer.allocate(4 * values.length)
                .order(java.nio.ByteOrder.LITTLE_ENDIAN);
        for (float value : values) {
            bytes.putFloat(value);
        }
        return "\"" + java.util.Base64.getEncoder().encodeToString(bytes.array()) + "\"";
    }

    /** Streams {@link #events} chunks, a last one with the finish reason, and with {@code usage} a usage chunk. */
    private void stream(HttpExchange exchange, String model, boolean usage) throws IOException {
        exchange.getResponseHeaders().set("Content-Type", "text/event-stream");
        // A cut stream promises more than it sends, so that closing it drops the connection mid-answer.
        exchange.sendResponseHeaders(200, mode == Mode.CUT_STREAM ? 1 << 20 : 0);
        OutputStream out = exchange.getResponseBody();
        for (int i = 0; i < events; i++) {
            if (mode == Mode.STALL && i == 2) {
                awaitClose();
                return;
            }
            if (mode == Mode.CUT_STREAM && i == 2) {
                // Half an event, then the connection goes: what a crashing upstream leaves.
                out.write("data: {\"id\":\"chatcmpl-1\",\"obj".getBytes(StandardCharsets.UTF_8));
                out.flush();
                return;
            }
            if (i > 0) {
                sleep(pace);
            }
            eventOrAbandon(out, "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\""
                    + model + "\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"t" + i
                    + " \"},\"logprobs\":null,\"finish_reason\":null}]}");
        }
        event(out, "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\""
                + model + "\",\"choices\":[{\"index\":0,\"delta\":{},\"logprobs\":null,\"finish_reason\":\"stop\"}]}");
        if (usage) {
            event(out, "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,"
                    + "\"model\":\"" + model + "\",\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":"
                    + events + ",\"total_tokens\":" + (5 + events) + "}}");
        }
        event(out, "[DONE]");
    }

    private void eventOrAbandon(OutputStream out, String data) throws IOException {
        try {
            event(out, data);
        } catch (IOException e) {
            streamAbandoned.countDown();
            throw e;
        }
    }

    private static void event(OutputStream out, String data) throws IOException {
        out.write(("data: " + data + "\n\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    private void awaitClose() throws IOException {
        try {
            closed.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
    }

    private static void sleep(Duration pace) throws IOException {
        try {
            Thread.sleep(pace);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
    }

    private static String error(String message, String code) throws IOException {
        return "{\"error\":{\"message\":" + JSON.writeValueAsString(message) + ",\"type\":\"invalid_request_error\","
                + "\"param\":null,\"code\":\"" + code + "\"}}";
    }

    private static void json(HttpExchange exchange, int status, String json) throws IOException {
        byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "application/json");
        exchange.sendResponseHeaders(status, bytes.length);
        exchange.getResponseBody().write(bytes);
    }

    @Override
    public void close() {
        closed.countDown();
        server.stop(0);
    }
}
