package dev.modelgate.plugins.ratelimit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.modelgate.kernel.Deployment;
import dev.modelgate.kernel.testing.Await;
import dev.modelgate.kernel.testing.RunningGateway;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The {@code token-limit} middleware end to end: gateways with the {@code openai} backend in front of a stand-in
 * upstream that reports the usage this test sets, keyed by the subject of an API key, in process and shared in a real
 * Redis.
 */
class TokenLimitGatewayTest {

    @RegisterExtension
    static final RedisServerExtension REDIS = new RedisServerExtension();

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String CHAT = "/openai/v1/chat/completions";
    private static final String ALICE = "key-alice";
    private static final String BOB = "key-bob";

    private HttpServer upstream;
    /** The usage the stand-in reports for each answer. */
    private volatile int promptTokens = 5;
    private volatile int completionTokens = 3;

    @BeforeEach
    void startUpstream() throws IOException {
        upstream = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        upstream.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        upstream.createContext("/v1/", exchange -> {
            try (exchange) {
                answer(exchange);
            }
        });
        upstream.start();
    }

    @AfterEach
    void stopUpstream() {
        upstream.stop(0);
    }

    private void answer(HttpExchange exchange) throws IOException {
        JsonNode body = JSON.readTree(exchange.getRequestBody().readAllBytes());
        String usage = "{\"prompt_tokens\":" + promptTokens + ",\"completion_tokens\":" + completionTokens
                + ",\"total_tokens\":" + (promptTokens + completionTokens) + "}";
        if (body.path("stream").asBoolean()) {
            exchange.getResponseHeaders().set("Content-Type", "text/event-stream");
            exchange.sendResponseHeaders(200, 0);
            OutputStream out = exchange.getResponseBody();
            out.write(("data: {\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":"
                    + "{\"content\":\"Hi\"},\"finish_reason\":null}]}\n\n"
                    + "data: {\"object\":\"chat.completion.chunk\",\"choices\":[],\"usage\":" + usage + "}\n\n"
                    + "data: [DONE]\n\n").getBytes(StandardCharsets.UTF_8));
            return;
        }
        byte[] answer = ("{\"object\":\"chat.completion\",\"choices\":[{\"index\":0,\"message\":{\"role\":"
                + "\"assistant\",\"content\":\"Hi\"},\"finish_reason\":\"stop\"}],\"usage\":" + usage + "}")
                .getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "application/json");
        exchange.sendResponseHeaders(200, answer.length);
        exchange.getResponseBody().write(answer);
    }

    private String config(String tokenLimit) {
        return """
                backends:
                  llm:
                    type: openai
                    upstreams:
                      - base-url: http://127.0.0.1:%d/v1
                routes:
                  - model: openai
                    backend: llm
                    middlewares:
                      - type: api-key
                        keys:
                          - name: alice
                            sha256: 87844ec0b0d738e89628640588acaa48537b814a5c4f9697e3b352d11ffedaef
                          - name: bob
                            sha256: f031fc74d10cf0c1284dc15f679c18b1e8e05f9d1966adefba6c6463cdcef658
                      - type: token-limit
                """.formatted(upstream.getAddress().getPort()) + tokenLimit.indent(8);
    }

    private static HttpResponse<String> chat(RunningGateway gateway, String apiKey, String extra) {
        return gateway.post(CHAT, "application/json", "{\"model\":\"m\",\"messages\":[{\"role\":\"user\","
                + "\"content\":\"Hi\"}]" + extra + "}", "X-API-Key", apiKey);
    }

    /** The tokens {@code modelgate_token_limit_tokens_total} counts for a subject and an outcome. */
    private static double tokens(RunningGateway gateway, String subject, String outcome) {
        return gateway.metric("modelgate_token_limit_tokens_total{key=\"subject:" + subject
                + "\",limiter=\"routes[0].middlewares[1]\",outcome=\"" + outcome + "\"}");
    }

    /** Waits until the charges of {@code subject}'s answered calls add up to {@code expected}. */
    private static void awaitCharged(RunningGateway gateway, String subject, double expected) {
        Await.until(subject + " charged " + expected + " tokens",
                () -> tokens(gateway, subject, "charged") == expected);
    }

    private static void assertRefused(HttpResponse<String> response) throws IOException {
        assertEquals(429, response.statusCode(), response.body());
        JsonNode error = JSON.readTree(response.body()).get("error");
        assertEquals("30501", error.get("code").asText(), response.body());
        assertEquals("rate_limit_error", error.get("type").asText(), response.body());
    }

    private static long retryAfter(HttpResponse<String> response) {
        return Long.parseLong(response.headers().firstValue("Retry-After").orElseThrow());
    }

    @Test
    void aCallIsRefusedUpFrontWhenTheMinuteCannotCoverItsMaxTokensAndChargedItsRealUsage() throws Exception {
        try (RunningGateway gateway = RunningGateway.start(config("""
                tokens-per-minute: 100
                estimate: 60
                """))) {
            assertEquals(200, chat(gateway, ALICE, ",\"max_tokens\":50").statusCode());
            awaitCharged(gateway, "alice", 8);

            // 92 left (and a token and a half a second coming back): 99 is too many.
            HttpResponse<String> refused = chat(gateway, ALICE, ",\"max_tokens\":99");
            assertRefused(refused);
            assertTrue(retryAfter(refused) >= 1 && retryAfter(refused) <= 5, "Retry-After " + retryAfter(refused));
            assertEquals(99, tokens(gateway, "alice", "refused"));
            assertEquals(200, chat(gateway, BOB, ",\"max_tokens\":99").statusCode(), "bob has his own budget");

            assertEquals(200, chat(gateway, ALICE, "").statusCode(), "the estimate, 60, fits");
            awaitCharged(gateway, "alice", 16);
            completionTokens = 4;
            HttpResponse<String> stream = chat(gateway, ALICE, ",\"stream\":true,\"max_tokens\":20");
            assertEquals(200, stream.statusCode(), stream.body());
            awaitCharged(gateway, "alice", 25);
            assertRefused(chat(gateway, ALICE, ",\"max_tokens\":80"));
            assertEquals(200, chat(gateway, ALICE, ",\"max_tokens\":70").statusCode(), "75 are left");
        }
    }

    @Test
    void theDayWindowCarriesADebtAndAnnouncesWhenItWillCoverTheCall() throws Exception {
        try (RunningGateway gateway = RunningGateway.start(config("""
                tokens-per-minute: 1000
                tokens-per-day: 100
                """))) {
            // Reserves 10, uses 80: the day window is charged the 80.
            promptTokens = 40;
            completionTokens = 40;
            assertEquals(200, chat(gateway, ALICE, ",\"max_tokens\":10").statusCode());
            awaitCharged(gateway, "alice", 80);

            HttpResponse<String> refused = chat(gateway, ALICE, ",\"max_tokens\":30");
            assertRefused(refused);
            // 20 left, 10 short at 100 tokens a day: 8640 s.
            assertTrue(retryAfter(refused) >= 8630 && retryAfter(refused) <= 8640, "Retry-After "
                    + retryAfter(refused));

            promptTokens = 5;
            completionTokens = 0;
            assertEquals(200, chat(gateway, ALICE, ",\"max_tokens\":20").statusCode());
            awaitCharged(gateway, "alice", 85);
            assertEquals(200, chat(gateway, ALICE, ",\"max_tokens\":15").statusCode(), "the 15 given back cover it");
        }
    }

    @Test
    void twoGatewaysSharingOneRedisShareEachBudgetWithoutOvershoot() throws Exception {
        String shared = """
                tokens-per-day: 100
                store: redis
                redis-url: %s
                redis-timeout: 2s
                redis-key-prefix: "shared:"
                on-redis-failure: fail-closed
                """.formatted(REDIS.server().url());
        try (RunningGateway first = RunningGateway.start(config(shared));
                RunningGateway second = RunningGateway.start(config(shared));
                ExecutorService clients = Executors.newFixedThreadPool(8)) {
            // Each call reserves 8 and uses 8: 12 fit in 100, whichever gateway they come through, at once.
            List<Callable<Integer>> calls = new ArrayList<>();
            for (int i = 0; i < 30; i++) {
                RunningGateway gateway = i % 2 == 0 ? first : second;
                calls.add(() -> chat(gateway, ALICE, ",\"max_tokens\":8").statusCode());
            }
            int admitted = 0;
            for (Future<Integer> status : clients.invokeAll(calls)) {
                assertTrue(status.get() == 200 || status.get() == 429, "status " + status.get());
                admitted += status.get() == 200 ? 1 : 0;
            }
            assertEquals(12, admitted, "100 tokens a day cover 12 calls of 8, across both gateways");
            Await.until("the charges of both gateways", () -> tokens(first, "alice", "charged")
                    + tokens(second, "alice", "charged") == 96);

            assertEquals(200, chat(second, ALICE, ",\"max_tokens\":4").statusCode(), "4 are left");
            Await.until("the last charge", () -> tokens(second, "alice", "charged") > 0
                    && tokens(first, "alice", "charged") + tokens(second, "alice", "charged") == 104);
            // It used 8: the other gateway sees the debt.
            assertRefused(chat(first, ALICE, ",\"max_tokens\":1"));
            assertEquals(200, chat(first, BOB, ",\"max_tokens\":100").statusCode(), "bob's budget is his own");
        }
    }

    @Test
    void whenRedisIsDownFailClosedRefusesAndFailOpenLetsCallsOn() throws Exception {
        int closed;
        try (ServerSocket socket = new ServerSocket(0)) {
            closed = socket.getLocalPort();
        }
        String down = """
                tokens-per-minute: 10
                store: redis
                redis-url: redis://127.0.0.1:%d
                redis-backoff: 3s
                on-redis-failure: %s
                """;
        try (RunningGateway gateway = RunningGateway.start(config(down.formatted(closed, "fail-closed")))) {
            HttpResponse<String> refused = chat(gateway, ALICE, ",\"max_tokens\":1");
            assertEquals(503, refused.statusCode(), refused.body());
            assertEquals("30502", JSON.readTree(refused.body()).at("/error/code").asText());
            assertEquals(3, retryAfter(refused));
        }
        try (RunningGateway gateway = RunningGateway.start(config(down.formatted(closed, "fail-open")))) {
            assertEquals(200, chat(gateway, ALICE, ",\"max_tokens\":100").statusCode(), "uncounted");
        }
    }

    @Test
    void configurationProblemsAreReportedByKey() {
        List<String> problems = assertThrows(Deployment.InvalidConfigException.class, () -> RunningGateway.start(
                config("""
                        key: cookie
                        tokens-per-day: 0
                        estimate: -1
                        store: redis
                        """)).close()).problems();
        assertEquals(List.of(
                "routes[0].middlewares[1].key: must be subject, api-key, client-ip, route or header:NAME, but was "
                        + "'cookie'",
                "routes[0].middlewares[1].tokens-per-day: must be between 1 and 1000000000, but was 0",
                "routes[0].middlewares[1].tokens-per-minute: give tokens-per-minute, tokens-per-day or both",
                "routes[0].middlewares[1].estimate: must be between 1 and 1000000000, but was -1",
                "routes[0].middlewares[1].redis-url: is required"), problems);
        assertEquals(List.of("routes[0].middlewares[1].redis-url: applies only with store: redis"),
                assertThrows(Deployment.InvalidConfigException.class, () -> RunningGateway.start(config("""
                        tokens-per-minute: 5
                        redis-url: redis://127.0.0.1:6379
                        """)).close()).problems());
    }
}
