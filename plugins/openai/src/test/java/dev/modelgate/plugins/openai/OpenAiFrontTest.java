package dev.modelgate.plugins.openai;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.modelgate.kernel.testing.RunningGateway;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.ServerSocket;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The OpenAI front and the {@code openai} backend end to end: a real gateway on loopback in front of two stand-in
 * OpenAI-compatible upstreams, a primary (with a key) and its fallback.
 */
class OpenAiFrontTest {

    static final ObjectMapper JSON = new ObjectMapper();
    private static final String KEY = "sk-upstream-secret-0123456789";
    private static final String CHAT = "/openai/v1/chat/completions";
    private static final HttpClient CLIENT = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    private final List<String> logged = new CopyOnWriteArrayList<>();
    private final Handler capture = new Handler() {
        @Override
        public void publish(LogRecord logRecord) {
            String parameters = logRecord.getParameters() == null ? "" : java.util.Arrays.toString(logRecord.getParameters());
            logged.add(logRecord.getMessage() + parameters + (logRecord.getThrown() == null ? ""
                    : logRecord.getThrown().toString()));
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    };
    private final Logger root = Logger.getLogger("");
    private Level rootLevel;

    private StandInUpstream primary;
    private StandInUpstream fallback;
    private RunningGateway gateway;

    static String config(String primaryUrl, String fallbackUrl) {
        return """
                server:
                  max-body-size: 64KiB
                backends:
                  llm:
                    type: openai
                    upstreams:
                      - name: primary
                        base-url: %s
                        api-key: ${PRIMARY_KEY}
                      - name: fallback
                        base-url: %s
                        models: [llama3:8b]
                    aliases:
                      fast: llama3:8b
                    stream-idle-timeout: 1s
                routes:
                  - model: openai
                    backend: llm
                """.formatted(primaryUrl, fallbackUrl);
    }

    @BeforeEach
    void start() throws Exception {
        rootLevel = root.getLevel();
        root.setLevel(Level.ALL);
        root.addHandler(capture);
        primary = StandInUpstream.start("primary");
        fallback = StandInUpstream.start("fallback");
        gateway = RunningGateway.start(config(primary.baseUrl(), fallback.baseUrl()), null,
                Map.of("PRIMARY_KEY", KEY));
    }

    @AfterEach
    void stop() throws Exception {
        gateway.close();
        primary.close();
        fallback.close();
        root.removeHandler(capture);
        root.setLevel(rootLevel);
    }

    private HttpResponse<String> post(String path, String body) {
        return gateway.post(path, "application/json", body, "Authorization", "Bearer client-token");
    }

    static String chat(String model, boolean stream) {
        return "{\"model\":\"" + model + "\",\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],\"stream\":"
                + stream + "}";
    }

    /** An OpenAI-shaped error with the gateway's code inside and in the header. */
    static void assertOpenAiError(HttpResponse<String> response, int status, int code) throws Exception {
        assertEquals(status, response.statusCode(), response.body());
        JsonNode error = JSON.readTree(response.body()).get("error");
        assertEquals(Integer.toString(code), error.get("code").asText(), response.body());
        assertTrue(error.get("message").isTextual() && error.get("type").isTextual(), response.body());
        assertEquals(Integer.toString(code), response.headers().firstValue("X-Modelgate-Code").orElse(null));
    }

    @Test
    void aChatCompletionReachesTheUpstreamWithItsKeyAndTheAliasResolved() throws Exception {
        HttpResponse<String> response = post(CHAT, chat("fast", false));

        assertEquals(200, response.statusCode(), response.body());
        JsonNode answer = JSON.readTree(response.body());
        assertEquals("Hello from primary", answer.at("/choices/0/message/content").asText());
        assertEquals(8, answer.at("/usage/total_tokens").asInt());
        assertEquals("llama3:8b", primary.bodies.getFirst().get("model").asText());
        assertEquals("Hi", primary.bodies.getFirst().at("/messages/0/content").asText());
        assertEquals(List.of("Bearer " + KEY), primary.authorizations, "the client's own token never goes upstream");
        assertEquals(0, fallback.calls());
    }

    /** The value of {@code modelgate_llm_tokens_total} for {@code model} on the primary, or -1 when missing. */
    private double tokens(String model, String type) {
        String sample = "modelgate_llm_tokens_total{backend=\"llm\",model=\"" + model + "\",type=\"" + type
                + "\",upstream=\"primary\"} ";
        return gateway.adminGet("/metrics").body().lines().filter(line -> line.startsWith(sample))
                .mapToDouble(line -> Double.parseDouble(line.substring(sample.length()).strip())).findFirst()
                .orElse(-1);
    }

    @Test
    void theTokensOfAnswersAndStreamsAreCountedPerUpstreamAndModel() throws Exception {
        assertEquals(200, post(CHAT, chat("fast", false)).statusCode());
        assertEquals(5, tokens("llama3:8b", "prompt"));
        assertEquals(3, tokens("llama3:8b", "completion"));

        primary.events = 4;
        HttpResponse<String> stream = post(CHAT, chat("fast", true));
        assertEquals(200, stream.statusCode());
        assertTrue(primary.bodies.getLast().at("/stream_options/include_usage").asBoolean(), "the gateway asks");
        assertFalse(stream.body().contains("prompt_tokens"), "the client did not ask: " + stream.body());
        assertEquals(6, stream.body().lines().filter(line -> line.startsWith("data: ")).count(), stream.body());
        assertEquals(10, tokens("llama3:8b", "prompt"));
        assertEquals(7, tokens("llama3:8b", "completion"), "the stream's usage chunk reports 4 completion tokens");
        // Other tests stream too, through the same gateway: at least this stream is timed, each way.
        assertTrue(gateway.metric("modelgate_llm_time_to_first_token_seconds_count{backend=\"llm\","
                + "upstream=\"primary\"}") >= 1);
        assertTrue(gateway.metric("modelgate_llm_time_per_output_token_seconds_count{backend=\"llm\","
                + "upstream=\"primary\"}") >= 1);

        HttpResponse<String> asked = post(CHAT, chat("fast", true).replace("\"stream\":true",
                "\"stream\":true,\"stream_options\":{\"include_usage\":true}"));
        assertTrue(asked.body().contains("\"choices\":[],\"usage\":{\"prompt_tokens\":5"), asked.body());
        assertEquals(11, tokens("llama3:8b", "completion"));

        assertEquals(200, post("/openai/v1/embeddings", "{\"model\":\"emb\",\"input\":\"x\"}").statusCode());
        assertEquals(2, tokens("emb", "prompt"));
    }

    @Test
    void theAccessLogRecordsTheUpstreamAndTheTokensOfAStream(@org.junit.jupiter.api.io.TempDir Path folder)
            throws Exception {
        Path log = folder.resolve("access.log");
        String config = "middlewares:\n  - type: access-log\n    output: " + log + "\n"
                + config(primary.baseUrl(), fallback.baseUrl());
        try (RunningGateway logged = RunningGateway.start(config, null, Map.of("PRIMARY_KEY", KEY))) {
            assertEquals(200, logged.post(CHAT, "application/json", chat("fast", true)).statusCode());
        }

        // Closing the gateway flushed the log.
        JsonNode line = JSON.readTree(Files.readAllLines(log).getFirst());
        assertEquals("primary", line.get("upstream").asText(), line.toString());
        assertEquals("llama3:8b", line.get("upstream_model").asText());
        assertEquals(5, line.get("prompt_tokens").asInt());
        assertEquals(3, line.get("completion_tokens").asInt());
    }

    @Test
    void embeddingsAndTheModelListPassThroughWithTheAliasesListed() throws Exception {
        HttpResponse<String> embedding = post("/openai/v1/embeddings", "{\"model\":\"emb\",\"input\":\"x\"}");
        assertEquals(200, embedding.statusCode(), embedding.body());
        assertEquals(3, JSON.readTree(embedding.body()).at("/data/0/embedding").size());

        HttpResponse<String> models = gateway.get("/openai/v1/models");
        assertEquals(200, models.statusCode(), models.body());
        List<String> ids = new ArrayList<>();
        JSON.readTree(models.body()).get("data").forEach(model -> ids.add(model.get("id").asText()));
        assertEquals(List.of("llama3:8b", "fast"), ids);

        HttpResponse<String> model = gateway.get("/openai/v1/models/fast");
        assertEquals(200, model.statusCode(), model.body());
        assertEquals("models/llama3:8b", primary.lastPath.get());
    }

    @Test
    void streamedEventsArriveAtTheUpstreamsPaceNotAllAtTheEnd() throws Exception {
        primary.events = 5;
        primary.pace = Duration.ofMillis(100);
        HttpRequest request = HttpRequest.newBuilder(gateway.uri(CHAT)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(chat("fast", true))).build();

        HttpResponse<InputStream> response = CLIENT.send(request, HttpResponse.BodyHandlers.ofInputStream());
        List<Long> arrivals = new ArrayList<>();
        List<String> events = new ArrayList<>();
        try (BufferedReader reader = new BufferedReader(new InputStreamReader(response.body(),
                StandardCharsets.UTF_8))) {
            for (String line = reader.readLine(); line != null; line = reader.readLine()) {
                if (line.startsWith("data: ")) {
                    arrivals.add(System.nanoTime());
                    events.add(line.substring(6));
                }
            }
        }

        assertEquals(200, response.statusCode());
        assertEquals("text/event-stream", response.headers().firstValue("Content-Type").orElse(null));
        assertEquals(7, events.size(), events.toString());
        assertEquals("[DONE]", events.getLast());
        // Five content events 100 ms apart: the first and the fifth arrive at least 400 ms apart (less a margin
        // for the timer), which a gateway that buffered the answer could not do.
        long spreadMillis = (arrivals.get(4) - arrivals.getFirst()) / 1_000_000;
        assertTrue(spreadMillis >= 300, "the events arrived within " + spreadMillis + " ms");
    }

    @Test
    void aClientThatHangsUpCancelsTheUpstreamCall() throws Exception {
        primary.events = 1000;
        primary.pace = Duration.ofMillis(20);
        HttpRequest request = HttpRequest.newBuilder(gateway.uri(CHAT)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(chat("fast", true))).build();

        HttpResponse<InputStream> response = CLIENT.send(request, HttpResponse.BodyHandlers.ofInputStream());
        try (BufferedReader reader = new BufferedReader(new InputStreamReader(response.body(),
                StandardCharsets.UTF_8))) {
            assertTrue(reader.readLine().startsWith("data: "));
        }

        // 1000 events take 20 s; the upstream sees the hang-up long before.
        assertTrue(primary.streamAbandoned.await(10, java.util.concurrent.TimeUnit.SECONDS),
                "the upstream's stream was not cancelled");
    }

    @Test
    void anUpstreamThatIsDownOrOverloadedOrRateLimitedFallsBackBeforeTheFirstByte() throws Exception {
        primary.mode = StandInUpstream.Mode.UNAVAILABLE;
        HttpResponse<String> overloaded = post(CHAT, chat("fast", false));
        assertEquals(200, overloaded.statusCode(), overloaded.body());
        assertTrue(overloaded.body().contains("Hello from fallback"), overloaded.body());

        primary.mode = StandInUpstream.Mode.RATE_LIMITED;
        HttpResponse<String> streamed = post(CHAT, chat("fast", true));
        assertEquals(200, streamed.statusCode(), streamed.body());
        assertTrue(streamed.body().endsWith("data: [DONE]\n\n"), streamed.body());
        assertEquals(2, fallback.calls());

        fallback.mode = StandInUpstream.Mode.RATE_LIMITED;
        HttpResponse<String> limited = post(CHAT, chat("fast", false));
        assertEquals(429, limited.statusCode(), limited.body());
        assertEquals("1", limited.headers().firstValue("Retry-After").orElse(null), "the last upstream's advice");
        assertEquals("rate_limit_error", JSON.readTree(limited.body()).at("/error/type").asText());
        fallback.mode = StandInUpstream.Mode.SERVE;

        String closed = closedUrl();
        try (RunningGateway down = RunningGateway.start(config(closed, fallback.baseUrl()), null,
                Map.of("PRIMARY_KEY", KEY))) {
            HttpResponse<String> unreachable = down.post(CHAT, "application/json", chat("llama3:8b", false));
            assertEquals(200, unreachable.statusCode(), unreachable.body());
            assertEquals(4, fallback.calls());
        }
        try (RunningGateway allDown = RunningGateway.start(config(closed, closed), null,
                Map.of("PRIMARY_KEY", KEY))) {
            assertOpenAiError(allDown.post(CHAT, "application/json", chat("llama3:8b", false)), 503, 40003);
        }
    }

    /** A base URL where nothing listens. */
    private static String closedUrl() throws Exception {
        try (ServerSocket socket = new ServerSocket(0)) {
            return "http://127.0.0.1:" + socket.getLocalPort() + "/v1";
        }
    }

    @Test
    void weightedUpstreamsShareTheFirstTriesByWeightAndTheOthersStayFallbacks() throws Exception {
        try (StandInUpstream third = StandInUpstream.start("third");
                RunningGateway weighted = RunningGateway.start("""
                        backends:
                          llm:
                            type: openai
                            upstreams:
                              - {name: a, base-url: "%s", weight: 3}
                              - {name: fallback, base-url: "%s"}
                              - {name: b, base-url: "%s", weight: 1}
                        routes:
                          - model: openai
                            backend: llm
                        """.formatted(primary.baseUrl(), fallback.baseUrl(), third.baseUrl()))) {
            for (int i = 0; i < 8; i++) {
                assertEquals(200, weighted.post(CHAT, "application/json", chat("m", false)).statusCode());
            }
            assertEquals(6, primary.calls());
            assertEquals(2, third.calls());
            assertEquals(0, fallback.calls());

            primary.mode = StandInUpstream.Mode.UNAVAILABLE;
            third.mode = StandInUpstream.Mode.UNAVAILABLE;
            assertEquals(200, weighted.post(CHAT, "application/json", chat("m", false)).statusCode());
            assertEquals(1, fallback.calls(), "the unweighted upstream is tried in its configured place");
        }
    }

    @Test
    void aStreamCutMidwayEndsWithAnOpenAiErrorEventAndIsNeverRetriedElsewhere() throws Exception {
        primary.mode = StandInUpstream.Mode.CUT_STREAM;

        HttpResponse<String> response = post(CHAT, chat("fast", true));

        assertEquals(200, response.statusCode());
        List<String> events = response.body().lines().filter(line -> line.startsWith("data: ")).toList();
        assertEquals(3, events.size(), response.body());
        JsonNode error = JSON.readTree(events.getLast().substring(6)).get("error");
        assertEquals("40042", error.get("code").asText(), response.body());
        assertEquals(0, fallback.calls(), "a stream that has begun is never retried elsewhere");
    }

    @Test
    void aStreamCutMidwayCountsAsFailedForTheBreakerAndTheAccessLog(@org.junit.jupiter.api.io.TempDir Path folder)
            throws Exception {
        Path log = folder.resolve("access.log");
        String config = "middlewares:\n  - type: access-log\n    output: " + log + "\n"
                + config(primary.baseUrl(), fallback.baseUrl()).replace("    stream-idle-timeout: 1s\n", """
                            stream-idle-timeout: 1s
                            filters:
                              - type: circuit-breaker
                                window-size: 2
                                wait-in-open: 1h
                        """);
        primary.mode = StandInUpstream.Mode.CUT_STREAM;
        try (RunningGateway guarded = RunningGateway.start(config, null, Map.of("PRIMARY_KEY", KEY))) {
            for (int i = 0; i < 2; i++) {
                HttpResponse<String> cut = guarded.post(CHAT, "application/json", chat("fast", true));
                assertTrue(cut.body().endsWith("\"code\":\"40042\"}}\n\n"), "the answer ends whole: " + cut.body());
            }
            primary.mode = StandInUpstream.Mode.SERVE;
            assertOpenAiError(guarded.post(CHAT, "application/json", chat("fast", true)), 503, 30201);
        }

        // Closing the gateway flushed the log.
        List<JsonNode> lines = new ArrayList<>();
        for (String line : Files.readAllLines(log)) {
            lines.add(JSON.readTree(line));
        }
        assertEquals(3, lines.size(), lines.toString());
        for (JsonNode cut : lines.subList(0, 2)) {
            assertEquals(502, cut.get("status").asInt(), cut.toString());
            assertEquals(40042, cut.get("code").asInt(), cut.toString());
        }
        assertEquals(30201, lines.get(2).get("code").asInt(), lines.get(2).toString());
    }

    @Test
    void aStreamThatStallsMidwayEndsWithItsOwnErrorEvent() throws Exception {
        primary.mode = StandInUpstream.Mode.STALL;

        HttpResponse<String> response = post(CHAT, chat("fast", true));

        List<String> events = response.body().lines().filter(line -> line.startsWith("data: ")).toList();
        assertEquals(3, events.size(), response.body());
        assertEquals("40043", JSON.readTree(events.getLast().substring(6)).at("/error/code").asText());
        assertEquals(0, fallback.calls());
    }

    @Test
    void theUpstreamKeyNeverReachesTheClientOrTheLog() throws Exception {
        primary.mode = StandInUpstream.Mode.REJECT;
        List<HttpResponse<String>> responses = List.of(post(CHAT, chat("fast", false)),
                post(CHAT, chat("fast", true)), gateway.get("/openai/v1/models"));
        primary.mode = StandInUpstream.Mode.HTML;
        HttpResponse<String> html = post(CHAT, chat("other", false));

        for (HttpResponse<String> response : responses) {
            assertFalse(response.body().contains(KEY), response.body());
            assertFalse(response.headers().map().toString().contains(KEY), response.headers().toString());
        }
        assertFalse(html.body().contains(KEY));
        assertEquals(4, primary.calls());
        assertFalse(logged.isEmpty(), "the upstream's refusals are logged");
        assertTrue(logged.stream().noneMatch(line -> line.contains(KEY)), logged.toString());
    }

    @Test
    void upstreamRefusalsPassThroughCleanedInOpenAisShape() throws Exception {
        primary.mode = StandInUpstream.Mode.REJECT;

        HttpResponse<String> response = post(CHAT, chat("fast", false));

        assertEquals(400, response.statusCode(), response.body());
        JsonNode error = JSON.readTree(response.body()).get("error");
        assertEquals("bad prompt", error.get("message").asText(), "the stack frame is taken out");
        assertEquals("40006", response.headers().firstValue("X-Modelgate-Code").orElse(null));
        assertEquals(0, fallback.calls(), "a 400 is the upstream's answer, not a failure to fall back from");

        primary.mode = StandInUpstream.Mode.FLAT_ERROR;
        HttpResponse<String> flat = post(CHAT, chat("fast", false));
        assertEquals(400, flat.statusCode(), flat.body());
        assertEquals("max_tokens is too large", JSON.readTree(flat.body()).at("/error/message").asText(),
                "vLLM's older flat error, in OpenAI's shape");
    }

    @Test
    void badInputGetsAClearOpenAiErrorWithItsOwnCode() throws Exception {
        assertOpenAiError(post(CHAT, "{\"messages\":[]}"), 400, 20050);
        assertOpenAiError(post(CHAT, "{\"model\":42}"), 400, 20050);
        assertOpenAiError(post(CHAT, "[1,2]"), 400, 20051);
        assertOpenAiError(post(CHAT, "model=fast"), 400, 20001);
        assertOpenAiError(post(CHAT, "{\"model\":\"fast\"} trailing"), 400, 20001);
        assertOpenAiError(post(CHAT, "{\"model\":\"fast\",\"x\":\"" + "a".repeat(70_000) + "\"}"), 413, 20003);
        assertOpenAiError(gateway.get(CHAT), 405, 20005);
        assertOpenAiError(gateway.get("/openai/v1/files"), 404, 20004);

        fallback.mode = StandInUpstream.Mode.HTML;
        primary.mode = StandInUpstream.Mode.UNAVAILABLE;
        assertOpenAiError(post(CHAT, chat("fast", false)), 502, 40041);

        try (RunningGateway named = RunningGateway.start(config(primary.baseUrl(), fallback.baseUrl())
                .replace("api-key: ${PRIMARY_KEY}", "models: [gpt-x]"))) {
            assertOpenAiError(named.post(CHAT, "application/json", chat("unknown", false)), 404, 40040);
        }
        assertEquals(0, primary.bodies.stream().filter(body -> body.path("model").asText().equals("unknown"))
                .count());
    }
}
