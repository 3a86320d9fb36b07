package dev.modelgate.plugins.accesslog;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.modelgate.kernel.Deployment;
import dev.modelgate.kernel.fixtures.StreamingBackendProvider;
import dev.modelgate.kernel.testing.BuiltPlugin;
import dev.modelgate.kernel.testing.RunningGateway;
import dev.modelgate.spi.Json;
import dev.modelgate.spi.Metrics;
import dev.modelgate.spi.PhasedMiddleware;
import java.io.ByteArrayOutputStream;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AccessLogTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String PREDICT_BODY = "{\"instances\":[[1.0,2.0]]}";
    private static final String ROUTES = """
            backends:
              echo:
                type: echo
            routes:
              - model: iris
                backend: echo
            """;

    @TempDir
    Path dir;

    private static String accessLog(String output, String... settings) {
        StringBuilder config = new StringBuilder("middlewares:\n  - type: access-log\n    output: ")
                .append(output).append('\n');
        for (String setting : settings) {
            config.append("    ").append(setting).append('\n');
        }
        return config + ROUTES;
    }

    private static List<JsonNode> readLines(Path file) throws IOException {
        List<JsonNode> lines = new ArrayList<>();
        for (String line : Files.readAllLines(file)) {
            lines.add(JSON.readTree(line));
        }
        return lines;
    }

    @Test
    void writesOneJsonLinePerRequestWithItsFields() throws Exception {
        Path log = dir.resolve("access.log");
        HttpResponse<String> predicted;
        HttpResponse<String> unknown;
        try (RunningGateway gateway = RunningGateway.start(accessLog(log.toString()))) {
            predicted = gateway.post("/v1/models/iris:predict", "application/json", PREDICT_BODY,
                    "X-Request-Id", "req-1");
            unknown = gateway.get("/v1/models/no-such-model");
        }

        List<JsonNode> lines = readLines(log);
        assertEquals(2, lines.size(), lines.toString());
        JsonNode first = lines.get(0);
        assertTrue(first.get("time").asText().matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z"),
                first.toString());
        assertTrue(Duration.between(Instant.parse(first.get("time").asText()), Instant.now()).toMinutes() < 1);
        assertEquals("req-1", first.get("request_id").asText());
        assertEquals("127.0.0.1", first.get("client").asText());
        assertEquals("POST", first.get("method").asText());
        assertEquals("/v1/models/iris:predict", first.get("path").asText());
        assertEquals(200, first.get("status").asInt());
        assertEquals(0, first.get("code").asInt());
        assertTrue(first.get("latency_ms").isDouble() && first.get("latency_ms").asDouble() > 0, first.toString());
        assertEquals(PREDICT_BODY.length(), first.get("bytes_in").asLong());
        assertEquals(predicted.body().getBytes(StandardCharsets.UTF_8).length, first.get("bytes_out").asLong());
        assertEquals("echo", first.get("backend").asText());
        assertEquals("iris", first.get("model").asText());

        JsonNode second = lines.get(1);
        assertEquals("GET", second.get("method").asText());
        assertEquals(404, second.get("status").asInt());
        assertEquals(40001, second.get("code").asInt());
        assertEquals(0, second.get("bytes_in").asLong(), "a GET has no body");
        assertEquals(unknown.body().getBytes(StandardCharsets.UTF_8).length, second.get("bytes_out").asLong());
        assertTrue(second.get("request_id").isNull());
        assertTrue(second.get("backend").isNull());
    }

    @Test
    void aStreamedAnswerIsLoggedWhenItEndsWithTheBytesItWrote() throws Exception {
        Path log = dir.resolve("access.log");
        HttpResponse<String> streamed;
        try (RunningGateway gateway = RunningGateway.start("""
                middlewares:
                  - type: access-log
                    output: %s
                backends:
                  stream:
                    type: streaming
                routes:
                  - model: stream
                    backend: stream
                """.formatted(log))) {
            streamed = gateway.post("/tfserving/v1/models/stream:predict", "application/json", PREDICT_BODY);
        }

        assertEquals(StreamingBackendProvider.FIRST_CHUNK + StreamingBackendProvider.LAST_CHUNK, streamed.body());
        JsonNode line = readLines(log).getFirst();
        assertEquals(200, line.get("status").asInt());
        assertEquals(streamed.body().length(), line.get("bytes_out").asLong(), "counted, not -1");
    }

    @Test
    void isPhasedSoItNeverHoldsAThreadWhileTheBackendWorks() throws Exception {
        try (var built = BuiltPlugin.middleware(new AccessLogProvider(), "output: " + dir.resolve("access.log"))) {
            assertInstanceOf(PhasedMiddleware.class, built.instance());
        }
    }

    @Test
    void logsARequestALaterStepRefusedBeforeTheBackend() throws Exception {
        Path log = dir.resolve("access.log");
        HttpResponse<String> refused;
        try (RunningGateway gateway = RunningGateway.start("middlewares:\n  - type: access-log\n    output: " + log
                + "\n  - type: authorize\n" + ROUTES)) {
            refused = gateway.post("/v1/models/iris:predict", "application/json", PREDICT_BODY,
                    "X-Request-Id", "refused-1");
        }

        assertEquals(401, refused.statusCode(), refused.body());
        List<JsonNode> lines = readLines(log);
        assertEquals(1, lines.size(), lines.toString());
        JsonNode line = lines.getFirst();
        assertEquals(401, line.get("status").asInt());
        assertEquals(10301, line.get("code").asInt());
        assertEquals("refused-1", line.get("request_id").asText());
        assertEquals(refused.body().getBytes(StandardCharsets.UTF_8).length, line.get("bytes_out").asLong());
    }

    @Test
    void recordsTheSubjectOfTheAuthenticatedPrincipalOrNull() throws Exception {
        Path log = dir.resolve("access.log");
        // The principal is set after access-log runs: it reads the subject once the pipeline has answered.
        try (RunningGateway gateway = RunningGateway.start("middlewares:\n  - type: access-log\n    output: " + log
                + "\n  - type: header-principal\n" + ROUTES)) {
            gateway.get("/v1/models", "X-Test-Subject", "batch-scorer", "X-Test-Roles", "predict");
            gateway.get("/v1/models");
        }

        List<JsonNode> lines = readLines(log);
        assertEquals(2, lines.size(), lines.toString());
        assertEquals("batch-scorer", lines.get(0).get("subject").asText());
        assertTrue(lines.get(1).has("subject") && lines.get(1).get("subject").isNull(), lines.get(1).toString());
    }

    @Test
    void neverLogsCredentialsOrTheQueryString() throws Exception {
        Path log = dir.resolve("access.log");
        try (RunningGateway gateway = RunningGateway.start(accessLog(log.toString()))) {
            gateway.post("/v1/models/iris:predict?api_key=query-secret", "application/json", PREDICT_BODY,
                    "Authorization", "Bearer header-secret", "Cookie", "session=cookie-secret");
        }

        String written = Files.readString(log);
        assertEquals(1, written.lines().count(), written);
        assertFalse(written.contains("secret"), written);
    }

    @Test
    void escapesValuesSoEachRequestStaysOneLine() throws Exception {
        Path log = dir.resolve("access.log");
        // The kernel refuses percent-encoded paths before any middleware, so client-chosen text reaches the log
        // through the request id and the subject (a token's claim, say).
        try (RunningGateway gateway = RunningGateway.start("middlewares:\n  - type: access-log\n    output: " + log
                + "\n  - type: header-principal\n" + ROUTES)) {
            gateway.get("/v1/models/iris", "X-Request-Id", "\"},{\"forged\":\"",
                    "X-Test-Subject", "\"},{\"admin\":true,\"x\":\"");
        }

        List<JsonNode> lines = readLines(log);
        assertEquals(1, lines.size());
        assertEquals("\"},{\"forged\":\"", lines.getFirst().get("request_id").asText());
        assertEquals("\"},{\"admin\":true,\"x\":\"", lines.getFirst().get("subject").asText());
        assertFalse(lines.getFirst().has("forged"));
        assertFalse(lines.getFirst().has("admin"));
    }

    @Test
    void writesTextBeyondAsciiAsUtf8() throws Exception {
        // HTTP clients send header values as ASCII; a token's claims (the subject) can hold any text.
        ByteArrayOutputStream output = new ByteArrayOutputStream();
        AtomicLong written = new AtomicLong();
        try (AccessLogWriter writer = new AccessLogWriter(output, true, 8, 8, counter(written), counter(new AtomicLong()),
                System.getLogger("test"))) {
            writer.submit(new AccessLogEntry(0, "r1", "127.0.0.1", "POST", "/v1/models/m:predict", 200, 0, 1.5, 10,
                    20, "b", "m", "Jos\u00e9 \u4e16\u754c \ud83d\ude00", null, null, null));
        }

        String line = output.toString(StandardCharsets.UTF_8);
        assertEquals(1, written.get());
        assertTrue(line.startsWith("{\"time\":\"1970-01-01T00:00:00.000Z\",\"request_id\":\"r1\""), line);
        assertEquals("Jos\u00e9 \u4e16\u754c \ud83d\ude00", Json.MAPPER.readTree(line).get("subject").asText());
    }

    private static Metrics.Counter counter(AtomicLong value) {
        return new Metrics.Counter() {
            @Override
            public void increment() {
                value.incrementAndGet();
            }

            @Override
            public void add(long amount) {
                value.addAndGet(amount);
            }

            @Override
            public long value() {
                return value.get();
            }
        };
    }

    @Test
    void appendsToAnExistingFile() throws Exception {
        Path log = Files.writeString(dir.resolve("access.log"), "{\"earlier\":true}\n");
        try (RunningGateway gateway = RunningGateway.start(accessLog(log.toString()))) {
            gateway.get("/v1/models");
        }

        List<JsonNode> lines = readLines(log);
        assertEquals(2, lines.size());
        assertTrue(lines.get(0).get("earlier").asBoolean());
        assertEquals("/v1/models", lines.get(1).get("path").asText());
    }

    @Test
    void linesReachTheOutputWhileTheGatewayRuns() throws Exception {
        Path log = dir.resolve("access.log");
        try (RunningGateway gateway = RunningGateway.start(accessLog(log.toString()))) {
            gateway.get("/v1/models");
            gateway.get("/v1/models");

            // The writer counts a batch once it is flushed: when the count says two, both lines are in the file.
            gateway.awaitMetric("modelgate_access_log_written_total 2");
            assertEquals(2, Files.readAllLines(log).size(), Files.readString(log));
            assertEquals(0, gateway.metric("modelgate_access_log_dropped_total"));
        }
    }

    /**
     * The output is a pipe nobody reads, as a stuck disk or a blocked terminal would be: once its buffer is full the
     * writer thread blocks, the one-entry queue fills, and every further line is dropped, while requests go on.
     */
    @Test
    void dropsAndCountsLinesWhenTheQueueIsFullWithoutSlowingRequests() throws Exception {
        Path pipe = dir.resolve("access.pipe");
        assertEquals(0, new ProcessBuilder("mkfifo", pipe.toString()).start().waitFor(), "mkfifo (coreutils)");
        // Opening a pipe waits for the other end, so the reader opens it while the gateway starts.
        CompletableFuture<InputStream> reader = CompletableFuture.supplyAsync(() -> {
            try {
                return new FileInputStream(pipe.toFile());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }, task -> Thread.ofVirtual().start(task));
        int requests = 1_000;
        try (RunningGateway gateway = RunningGateway.start(
                accessLog(pipe.toString(), "queue-size: 1", "batch-size: 1"));
                InputStream unread = reader.get()) {
            assertTimeoutPreemptively(Duration.ofSeconds(30), () -> {
                try (ExecutorService clients = Executors.newFixedThreadPool(16)) {
                    List<Future<HttpResponse<String>>> responses = new ArrayList<>();
                    for (int i = 0; i < requests; i++) {
                        responses.add(clients.submit(() -> gateway.get("/v1/models")));
                    }
                    for (Future<HttpResponse<String>> response : responses) {
                        assertEquals(200, response.get().statusCode());
                    }
                }
            }, "requests must not wait for the access log");

            long dropped = (long) gateway.metric("modelgate_access_log_dropped_total");
            assertTrue(dropped > 0 && dropped < requests, "dropped " + dropped);
            // Let the writer go, so that closing the gateway does not wait for it.
            Thread.ofVirtual().start(() -> drain(unread));
        }
    }

    @Test
    void theClientBehindATrustedProxyIsTheOneItsForwardedForNames() throws Exception {
        Path log = dir.resolve("access.log");
        try (RunningGateway gateway = RunningGateway.start("server:\n  trusted-proxies: [127.0.0.1/32]\n"
                + accessLog(log.toString()))) {
            gateway.get("/v1/models/iris", "X-Forwarded-For", "198.51.100.7, 203.0.113.9");
            gateway.get("/v1/models/iris");
        }
        try (RunningGateway gateway = RunningGateway.start(accessLog(log.toString()))) {
            gateway.get("/v1/models/iris", "X-Forwarded-For", "203.0.113.9");
        }

        List<String> clients = readLines(log).stream().map(line -> line.get("client").asText()).toList();
        assertEquals(List.of("203.0.113.9", "127.0.0.1", "127.0.0.1"), clients,
                "the right-most untrusted hop; the peer without the header; the peer when no proxy is trusted");
    }

    /** The README's own example logs to /var/log/modelgate/, which a fresh machine does not have yet. */
    @Test
    void aLogFolderThatDoesNotExistYetIsMade() throws Exception {
        Path log = dir.resolve("var/log/modelgate/remote.log");

        try (RunningGateway gateway = RunningGateway.start(accessLog(log.toString()))) {
            assertEquals(200, gateway.post("/v1/models/iris:predict", "application/json", PREDICT_BODY)
                    .statusCode());
        }

        assertEquals(1, readLines(log).size());
    }

    private static void drain(InputStream in) {
        try {
            in.transferTo(OutputStream.nullOutputStream());
        } catch (IOException e) {
            // the test is over: the pipe was closed under us
        }
    }

    @Test
    void reportsInvalidSettingsByKey() throws Exception {
        Path notAFolder = Files.writeString(dir.resolve("a-file"), "");
        Deployment.InvalidConfigException invalid = assertThrows(Deployment.InvalidConfigException.class,
                () -> RunningGateway.start(accessLog(notAFolder.resolve("access.log").toString(),
                        "queue-size: 0", "batch-size: many")).close());

        List<String> problems = invalid.problems();
        assertEquals(3, problems.size(), invalid.getMessage());
        assertTrue(problems.get(0).startsWith("middlewares[0].queue-size: must be between 1 and"), problems.get(0));
        assertTrue(problems.get(1).startsWith("middlewares[0].batch-size: must be an integer"), problems.get(1));
        assertTrue(problems.get(2).startsWith("middlewares[0].output: cannot open"), problems.get(2));
    }
}
