package dev.modelgate.plugins.openai;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import dev.modelgate.kernel.Deployment;
import dev.modelgate.kernel.testing.RunningGateway;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Azure OpenAI as an upstream: a stand-in that records the exact path, query and key headers of what it gets, as
 * Azure's endpoint would see them.
 */
class AzureUpstreamTest {

    private static final String KEY = "azure-secret-key-42";

    /** One request as the stand-in saw it. */
    private record Seen(String method, String rawPath, String rawQuery, String apiKey, String authorization) {
    }

    private final List<Seen> seen = new CopyOnWriteArrayList<>();
    private HttpServer azure;

    @BeforeEach
    void start() throws Exception {
        azure = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        azure.createContext("/", exchange -> {
            try (exchange) {
                exchange.getRequestBody().readAllBytes();
                seen.add(new Seen(exchange.getRequestMethod(), exchange.getRequestURI().getRawPath(),
                        exchange.getRequestURI().getRawQuery(), exchange.getRequestHeaders().getFirst("api-key"),
                        exchange.getRequestHeaders().getFirst("Authorization")));
                byte[] answer = ("{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion\",\"created\":1700000000,"
                        + "\"model\":\"gpt-4o\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\","
                        + "\"content\":\"Hello from Azure\"},\"finish_reason\":\"stop\"}],"
                        + "\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":3,\"total_tokens\":8}}")
                        .getBytes(StandardCharsets.UTF_8);
                exchange.getResponseHeaders().set("Content-Type", "application/json");
                exchange.sendResponseHeaders(200, answer.length);
                exchange.getResponseBody().write(answer);
            }
        });
        azure.start();
    }

    @AfterEach
    void stop() {
        azure.stop(0);
    }

    @Test
    void callsGoToTheModelsDeploymentWithTheApiVersionAndTheApiKeyHeader() throws Exception {
        String endpoint = "http://127.0.0.1:" + azure.getAddress().getPort();
        try (RunningGateway gateway = RunningGateway.start("""
                backends:
                  llm:
                    type: openai
                    upstreams:
                      - name: azure
                        kind: azure
                        base-url: %s
                        api-key: ${AZURE_KEY}
                        api-version: 2024-10-21
                        deployments:
                          gpt-4o: prod-gpt4o
                          text-embedding-3-small: embed
                routes:
                  - model: openai
                    backend: llm
                """.formatted(endpoint), null, Map.of("AZURE_KEY", KEY))) {
            HttpResponse<String> chat = gateway.post("/openai/v1/chat/completions", "application/json",
                    "{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]}",
                    "Authorization", "Bearer client-token");
            assertEquals(200, chat.statusCode(), chat.body());
            assertTrue(chat.body().contains("Hello from Azure"), chat.body());
            assertEquals(200, gateway.post("/openai/v1/embeddings", "application/json",
                    "{\"model\":\"text-embedding-3-small\",\"input\":\"x\"}").statusCode());
            assertEquals(200, gateway.get("/openai/v1/models").statusCode());
            HttpResponse<String> unknown = gateway.post("/openai/v1/chat/completions", "application/json",
                    "{\"model\":\"gpt-3.5\",\"messages\":[]}");
            assertEquals(404, unknown.statusCode(), "the deployments are the models it serves: " + unknown.body());
        }

        assertEquals(List.of(
                new Seen("POST", "/openai/deployments/prod-gpt4o/chat/completions", "api-version=2024-10-21", KEY,
                        null),
                new Seen("POST", "/openai/deployments/embed/embeddings", "api-version=2024-10-21", KEY, null),
                new Seen("GET", "/openai/models", "api-version=2024-10-21", KEY, null)), seen);
        seen.forEach(request -> assertNull(request.authorization(), "no Bearer token goes to Azure"));
    }

    @Test
    void anAzureUpstreamWithoutItsApiVersionOrWithAzureKeysOnAPlainOneIsRefusedWithTheKeyPath() {
        String config = """
                backends:
                  llm:
                    type: openai
                    upstreams:
                      - kind: azure
                        base-url: https://example.openai.azure.com
                        deployments: {gpt-4o: "bad/name"}
                      - base-url: http://127.0.0.1:9/v1
                        api-version: 2024-10-21
                      - kind: bedrock
                        base-url: http://127.0.0.1:9/v1
                routes:
                  - model: openai
                    backend: llm
                """;
        String problems = String.join("\n", assertThrows(Deployment.InvalidConfigException.class,
                () -> RunningGateway.start(config).close()).problems());
        assertTrue(problems.contains("backends.llm.upstreams[0].api-version"), problems);
        assertTrue(problems.contains("backends.llm.upstreams[0].deployments.gpt-4o"), problems);
        assertTrue(problems.contains("backends.llm.upstreams[1].api-version: applies only with kind: azure"),
                problems);
        assertTrue(problems.contains("backends.llm.upstreams[2].kind: must be openai or azure"), problems);
    }
}
