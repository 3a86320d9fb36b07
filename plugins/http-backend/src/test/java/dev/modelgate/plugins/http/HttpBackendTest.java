package dev.modelgate.plugins.http;

import static dev.modelgate.kernel.testing.Answers.assertError;
import static dev.modelgate.plugins.http.Gateways.JSON;
import static dev.modelgate.plugins.http.Gateways.PREDICTIONS;
import static dev.modelgate.plugins.http.Gateways.PREDICT_BODY;
import static dev.modelgate.plugins.http.Gateways.PREDICT_PATH;
import static dev.modelgate.plugins.http.Gateways.assertProblem;
import static dev.modelgate.plugins.http.Gateways.predict;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.modelgate.kernel.testing.Await;
import dev.modelgate.kernel.testing.RunningGateway;
import dev.modelgate.kernel.testing.TestBackend;
import dev.modelgate.kernel.testing.TestBackend.Reply;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class HttpBackendTest {

    /** A gateway routing model {@code remote} to an {@code http} backend with {@code settings} under its url. */
    private static String config(String url, String... settings) {
        StringBuilder config = new StringBuilder("""
                backends:
                  remote:
                    type: http
                """);
        if (url != null) {
            config.append("    url: ").append(url).append('\n');
        }
        for (String setting : settings) {
            config.append("    ").append(setting).append('\n');
        }
        return config.append("""
                routes:
                  - model: remote
                    backend: remote
                """).toString();
    }

    @Test
    void forwardsTheBodyAndTracingHeadersAndReturnsThePredictions() throws Exception {
        String traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        try (TestBackend backend = TestBackend.start(request -> Reply.json(200, PREDICTIONS));
                RunningGateway gateway = RunningGateway.start(config(backend.url("/v1/models/iris:predict")))) {
            HttpResponse<String> response = predict(gateway, "X-Request-Id", "req-42", "traceparent", traceparent,
                    "Authorization", "Bearer client-secret", "Cookie", "session=abc");

            assertEquals(200, response.statusCode(), response.body());
            JsonNode envelope = JSON.readTree(response.body());
            assertEquals(0, envelope.get("code").asInt());
            assertEquals(JSON.readTree(PREDICTIONS), envelope.get("data"));

            TestBackend.Request seen = backend.lastRequest();
            assertEquals("POST", seen.method());
            assertEquals("/v1/models/iris:predict", seen.path());
            assertEquals(PREDICT_BODY, seen.bodyText());
            assertEquals("application/json", seen.headers().first("Content-Type"));
            assertEquals("req-42", seen.headers().first("X-Request-Id"));
            assertEquals(traceparent, seen.headers().first("traceparent"));
            assertNull(seen.headers().first("Authorization"), "the gateway's credentials stay at the gateway");
            assertNull(seen.headers().first("Cookie"));
        }
    }

    @Test
    void tellsTheBackendWhoTheRequestAuthenticatedAs() throws Exception {
        try (TestBackend backend = TestBackend.start(request -> Reply.json(200, PREDICTIONS));
                RunningGateway gateway = RunningGateway.start("middlewares:\n  - type: header-principal\n"
                        + config(backend.url("/predict")))) {
            predict(gateway, "X-Test-Subject", "batch-scorer", "X-Test-Roles", "predict, admin,batch");

            TestBackend.Request seen = backend.lastRequest();
            assertEquals(List.of("batch-scorer"), seen.headers().all("X-Modelgate-Subject"));
            assertEquals(List.of("admin,batch,predict"), seen.headers().all("X-Modelgate-Roles"));
        }
    }

    @Test
    void sendsNoIdentityHeadersForAnAnonymousRequestWhateverTheClientSent() throws Exception {
        try (TestBackend backend = TestBackend.start(request -> Reply.json(200, PREDICTIONS));
                RunningGateway gateway = RunningGateway.start(config(backend.url("/predict")))) {
            predict(gateway, "X-Modelgate-Subject", "admin", "X-Modelgate-Roles", "admin");

            TestBackend.Request seen = backend.lastRequest();
            assertNull(seen.headers().first("X-Modelgate-Subject"));
            assertNull(seen.headers().first("X-Modelgate-Roles"));
        }
    }

    @Test
    void answers503WhenTheBackendRefusesConnections() throws Exception {
        int closedPort;
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = socket.getLocalPort();
        }
        try (RunningGateway gateway = RunningGateway.start(config("http://127.0.0.1:" + closedPort + "/predict"))) {
            HttpResponse<String> response = predict(gateway);

            assertError(response, 503, 40003);
            assertFalse(response.body().contains(String.valueOf(closedPort)), "the backend's address stays private");
        }
    }

    @Test
    void answers504WhenTheBackendIsSlowerThanTheRequestTimeout() throws Exception {
        try (TestBackend backend = TestBackend.start(
                        request -> Reply.delayed(Duration.ofSeconds(3), 200, "application/json", PREDICTIONS));
                RunningGateway gateway = RunningGateway.start(config(backend.url("/predict"),
                        "connect-timeout: 100ms", "request-timeout: 200ms"))) {
            Instant start = Instant.now();

            HttpResponse<String> response = predict(gateway);

            assertError(response, 504, 40004);
            assertTrue(Duration.between(start, Instant.now()).toMillis() < 2_000, "answered at the timeout");
        }
    }

    @Test
    void answers502WhenTheBackendFails() throws Exception {
        try (TestBackend backend = TestBackend.start(request -> Reply.json(500, "{\"error\":\"model crashed\"}"));
                RunningGateway gateway = RunningGateway.start(config(backend.url("/predict")))) {
            HttpResponse<String> response = predict(gateway);

            assertError(response, 502, 40005);
            assertTrue(response.body().contains("model crashed"), response.body());
        }
    }

    @Test
    void answers400WhenTheBackendRejectsTheRequest() throws Exception {
        try (TestBackend backend = TestBackend.start(request -> Reply.json(400, "{\"error\":\"bad shape\"}"));
                RunningGateway gateway = RunningGateway.start(config(backend.url("/predict")))) {
            assertError(predict(gateway), 400, 40006);
        }
    }

    @Test
    void answers502WhenTheResponseIsLargerThanTheLimitAndRecovers() throws Exception {
        String large = "{\"predictions\":[\"" + "x".repeat(2048) + "\"]}";
        try (TestBackend backend = TestBackend.start(
                        request -> Reply.json(200, request.bodyText().contains("large") ? large : PREDICTIONS));
                RunningGateway gateway = RunningGateway.start(config(backend.url("/predict"),
                        "max-response-size: 1KB"))) {
            HttpResponse<String> tooLarge = gateway.post(PREDICT_PATH, "application/json",
                    "{\"instances\":[\"large\"]}");

            assertError(tooLarge, 502, 40011);
            assertEquals(200, predict(gateway).statusCode(), "the next call gets a fresh connection");
        }
    }

    @Test
    void sequentialRequestsReuseOneKeepAliveConnection() throws Exception {
        try (TestBackend backend = TestBackend.start(request -> Reply.json(200, PREDICTIONS));
                RunningGateway gateway = RunningGateway.start(config(backend.url("/predict")))) {
            for (int i = 0; i < 20; i++) {
                assertEquals(200, predict(gateway).statusCode());
            }

            assertEquals(20, backend.calls());
            assertEquals(1, backend.distinctConnections());
        }
    }

    @Test
    void maxConnectionsBoundsConcurrentBackendCalls() throws Exception {
        int requests = 10;
        try (TestBackend backend = TestBackend.start(
                        request -> Reply.delayed(Duration.ofMillis(100), 200, "application/json", PREDICTIONS));
                RunningGateway gateway = RunningGateway.start(config(backend.url("/predict"),
                        "max-connections: 2", "pool-timeout: 10s"));
                ExecutorService clients = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<HttpResponse<String>>> responses = new ArrayList<>();
            for (int i = 0; i < requests; i++) {
                responses.add(clients.submit(() -> predict(gateway)));
            }
            for (Future<HttpResponse<String>> response : responses) {
                assertEquals(200, response.get().statusCode(), response.get().body());
            }

            assertEquals(requests, backend.calls());
            assertEquals(2, backend.maxConcurrentCalls());
            // Kept alive and handed on, not one per request. A connection belongs to the IO thread that opened it:
            // when only another thread's calls wait, a full pool closes it so that they can open one of their own.
            assertTrue(backend.distinctConnections() < requests, backend.distinctConnections() + " connections");
        }
    }

    @Test
    void answers503WhenNoPooledConnectionFreesUpInTime() throws Exception {
        try (TestBackend backend = TestBackend.start(
                        request -> Reply.delayed(Duration.ofSeconds(2), 200, "application/json", PREDICTIONS));
                RunningGateway gateway = RunningGateway.start(config(backend.url("/predict"),
                        "max-connections: 1", "pool-timeout: 100ms"));
                ExecutorService clients = Executors.newVirtualThreadPerTaskExecutor()) {
            Future<HttpResponse<String>> holdingTheConnection = clients.submit(() -> predict(gateway));
            Await.until("the first call to reach the backend", () -> backend.calls() == 1);

            assertError(predict(gateway), 503, 40003);
            assertEquals(200, holdingTheConnection.get().statusCode());
        }
    }

    @Test
    void exportsThePoolsConnectionsByState() throws Exception {
        try (TestBackend backend = TestBackend.start(request -> Reply.json(200, PREDICTIONS));
                RunningGateway gateway = RunningGateway.start(config(backend.url("/predict")))) {
            predict(gateway);

            gateway.assertMetric("modelgate_backend_connections{backend=\"remote\",state=\"available\"} 1");
            gateway.assertMetric("modelgate_backend_connections{backend=\"remote\",state=\"leased\"} 0");
            gateway.assertMetric("modelgate_backend_connections{backend=\"remote\",state=\"pending\"} 0");
        }
    }

    @Test
    void aBackendWithoutProtocolDescribesNoSignatureAndNeverItsUrl() throws Exception {
        try (TestBackend backend = TestBackend.start(request -> Reply.json(200, PREDICTIONS));
                RunningGateway gateway = RunningGateway.start(config(backend.url("/internal/predict"),
                        "model-name: iris"))) {
            HttpResponse<String> response = gateway.get("/v1/models/remote");

            assertEquals(200, response.statusCode(), response.body());
            assertEquals(JSON.readTree("{\"platform\":\"\",\"versions\":[],\"inputs\":[],\"outputs\":[]}"),
                    JSON.readTree(response.body()).get("data").get("metadata"));
            assertFalse(response.body().contains("internal"), response.body());
        }
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "                        | backends.remote.url: is required",
        "ftp://models.internal/x | backends.remote.url: must be an absolute http or https URL",
        "http://                 | backends.remote.url: must be an absolute http or https URL",
        "not a url               | backends.remote.url: must be an absolute http or https URL",
    })
    void reportsABadUrlByKey(String url, String problem) {
        assertProblem(config(url), problem);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "connect-timeout: 0s        | backends.remote.connect-timeout: must be a positive duration",
        "request-timeout: soon      | backends.remote.request-timeout: must be a positive duration",
        "request-timeout: 500ms     | backends.remote.request-timeout: must not be shorter than connect-timeout",
        "max-connections: 0         | backends.remote.max-connections: must be between 1 and",
        "idle-timeout: 0ms          | backends.remote.idle-timeout: must be a positive duration",
        "max-connection-lifetime: 0s | backends.remote.max-connection-lifetime: must be a positive duration",
        "pool-timeout: -1s          | backends.remote.pool-timeout: must be a positive duration",
        "forward-headers: [Host]    | backends.remote.forward-headers: 'Host' cannot be forwarded",
        "forward-headers: [X-Modelgate-Id] | backends.remote.forward-headers: 'X-Modelgate-Id' cannot be forwarded",
        "retries: 3                 | backends.remote.retries: unknown key",
    })
    void reportsABadSettingByKey(String setting, String problem) {
        assertProblem(config("http://127.0.0.1:1/predict", setting), problem);
    }
}
