package dev.modelgate.plugins.opentelemetry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.modelgate.kernel.Deployment;
import dev.modelgate.kernel.testing.Await;
import dev.modelgate.kernel.testing.BuiltPlugin;
import dev.modelgate.kernel.testing.RunningGateway;
import dev.modelgate.kernel.testing.TestBackend;
import dev.modelgate.kernel.testing.TestBackend.Reply;
import dev.modelgate.plugins.opentelemetry.OtlpReceiver.Received;
import dev.modelgate.spi.PhasedMiddleware;
import io.opentelemetry.proto.trace.v1.Span;
import java.net.ServerSocket;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Spans of requests through a real gateway, exported over OTLP/HTTP to a real receiver on loopback, under the ids the
 * model server stand-in saw in {@code traceparent}.
 */
class OpenTelemetryTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String CLIENT_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
    private static final String CLIENT_SPAN = "00f067aa0ba902b7";
    private static final String PREDICTION = "{\"predictions\":[[1.0]]}";

    static String config(String exporterSettings, String backendUrl) {
        return """
                middlewares:
                  - type: trace-context
                  - type: opentelemetry
                %s
                backends:
                  remote:
                    type: http
                    url: %s
                routes:
                  - model: remote
                    backend: remote
                """.formatted(exporterSettings.indent(4).stripTrailing(), backendUrl);
    }

    static String exportingTo(String endpoint, String more) {
        return """
                endpoint: %s
                service-name: gateway-under-test
                batch:
                  schedule-delay: 50ms
                %s""".formatted(endpoint, more);
    }

    private static HttpResponse<String> predict(RunningGateway gateway, String model, String... headers) {
        return gateway.post("/v1/models/" + model + ":predict", "application/json", "{\"instances\":[[1.0]]}",
                headers);
    }

    /** A model server stand-in that answers every predict and keeps each {@code traceparent} it was sent. */
    private static TestBackend recordingTraceparents(List<String> traceparents) throws java.io.IOException {
        return TestBackend.start(request -> {
            traceparents.add(request.headers().first("traceparent"));
            return Reply.json(200, PREDICTION);
        });
    }

    private static List<Received> awaitSpans(OtlpReceiver receiver, int count) {
        return Await.until(count + " spans at the receiver", Await.DEADLINE,
                () -> receiver.spans().size() >= count ? receiver.spans() : null,
                () -> receiver.spans().size() + " spans: " + receiver.spans());
    }

    private static Received spanOfTrace(List<Received> spans, String traceId) {
        return spans.stream().filter(span -> span.traceId().equals(traceId)).findFirst()
                .orElseThrow(() -> new AssertionError("no span of trace " + traceId + " in " + spans));
    }

    @Test
    void eachRequestIsOneSpanUnderTheIdsTheBackendWasSent() throws Exception {
        List<String> traceparents = new CopyOnWriteArrayList<>();
        try (OtlpReceiver receiver = OtlpReceiver.start();
                TestBackend backend = recordingTraceparents(traceparents);
                RunningGateway gateway = RunningGateway.start(config(exportingTo(receiver.endpoint(), ""),
                        backend.url("/predict")))) {
            assertEquals(200, predict(gateway, "remote",
                    "traceparent", "00-" + CLIENT_TRACE + "-" + CLIENT_SPAN + "-01",
                    "tracestate", "vendor=abc").statusCode());
            assertEquals(200, predict(gateway, "remote").statusCode());
            HttpResponse<String> unknown = predict(gateway, "missing",
                    "traceparent", "00-" + "1".repeat(32) + "-" + CLIENT_SPAN + "-01");

            List<Received> spans = awaitSpans(receiver, 3);
            assertEquals(3, spans.size(), spans.toString());

            // The client's trace: the gateway's span is the client's span's child and the backend's parent.
            String continued = traceparents.get(0);
            Received first = spanOfTrace(spans, CLIENT_TRACE);
            assertEquals("00-" + CLIENT_TRACE + "-" + first.spanId() + "-01", continued);
            assertEquals(CLIENT_SPAN, first.parentSpanId());
            assertEquals("vendor=abc", first.span().getTraceState());
            assertEquals(Span.SpanKind.SPAN_KIND_SERVER, first.span().getKind());
            assertEquals("POST /v1/models/remote:predict", first.span().getName());
            assertEquals("remote:v1", first.attribute("modelgate.route").getStringValue());
            assertEquals("remote", first.attribute("modelgate.model").getStringValue());
            assertEquals("remote", first.attribute("modelgate.backend").getStringValue());
            assertEquals(0, first.attribute("modelgate.code").getIntValue());
            assertEquals(200, first.attribute("http.response.status_code").getIntValue());
            assertEquals("http", first.attribute("modelgate.protocol").getStringValue());
            assertEquals("modelgate", first.attribute("modelgate.front").getStringValue());
            assertNull(first.attribute("modelgate.batch_size"), "a request served alone");
            assertEquals("gateway-under-test", first.resourceAttribute("service.name").getStringValue());
            assertEquals("application/x-protobuf", first.contentType());
            assertTrue(first.span().getEndTimeUnixNano() >= first.span().getStartTimeUnixNano());

            // A trace the gateway started: sampled at the default ratio 1, and the backend is told so.
            String started = traceparents.get(1);
            Received second = spanOfTrace(spans, started.substring(3, 35));
            assertEquals("00-" + second.traceId() + "-" + second.spanId() + "-01", started);
            assertEquals("", second.parentSpanId(), "a root span");

            // A request no route serves is a span too, with its code.
            Received third = spanOfTrace(spans, "1".repeat(32));
            long code = JSON.readTree(unknown.body()).get("code").asLong();
            assertEquals(404, unknown.statusCode());
            assertEquals(code, third.attribute("modelgate.code").getIntValue());
            assertEquals(404, third.attribute("http.response.status_code").getIntValue());
            assertNull(third.attribute("modelgate.backend"));
        }
    }

    @Test
    void aClientsSamplingDecisionIsKeptAndTheRatioDecidesForTracesTheGatewayStarts() throws Exception {
        List<String> traceparents = new CopyOnWriteArrayList<>();
        try (OtlpReceiver receiver = OtlpReceiver.start();
                TestBackend backend = recordingTraceparents(traceparents);
                RunningGateway gateway = RunningGateway.start(config(
                        exportingTo(receiver.endpoint(), "sampling-ratio: 0"), backend.url("/predict")))) {
            predict(gateway, "remote", "traceparent", "00-" + "2".repeat(32) + "-" + CLIENT_SPAN + "-00");
            predict(gateway, "remote");
            predict(gateway, "remote", "traceparent", "00-" + CLIENT_TRACE + "-" + CLIENT_SPAN + "-01");

            // Spans leave in the order they ended: once the last one is in, none of the first two was recorded.
            List<Received> spans = awaitSpans(receiver, 1);
            assertEquals(1, spans.size(), spans.toString());
            assertEquals(CLIENT_TRACE, spans.getFirst().traceId());
            assertTrue(traceparents.get(0).endsWith("-00"), traceparents.get(0));
            assertTrue(traceparents.get(1).endsWith("-00"), "not sampled at ratio 0: " + traceparents.get(1));
            assertTrue(traceparents.get(2).endsWith("-01"), traceparents.get(2));
        }
    }

    @Test
    void aRequestThatRodeInABatchCarriesTheBatchSize() throws Exception {
        List<Integer> rowsPerCall = new CopyOnWriteArrayList<>();
        try (OtlpReceiver receiver = OtlpReceiver.start();
                TestBackend tfServing = TestBackend.start(request -> {
                    JsonNode rows = JSON.readTree(request.body()).get("inputs");
                    rowsPerCall.add(rows.size());
                    return Reply.json(200, "{\"outputs\":["
                            + String.join(",", java.util.Collections.nCopies(rows.size(), "[1.0]")) + "]}");
                });
                RunningGateway gateway = RunningGateway.start("""
                        middlewares:
                          - type: trace-context
                          - type: opentelemetry
                            endpoint: %s
                            batch:
                              schedule-delay: 50ms
                        backends:
                          remote:
                            type: http
                            protocol: tf-serving
                            url: %s
                            filters:
                              - type: batching
                                strategy: delay
                                max-batch-size: 2
                                max-queue-delay: 100ms
                        routes:
                          - model: remote
                            backend: remote
                        """.formatted(receiver.endpoint(), tfServing.url("/v1/models/remote:predict")));
                ExecutorService clients = Executors.newVirtualThreadPerTaskExecutor()) {
            // Two at once fill a batch of two; one alone leaves by itself once its queue delay is over.
            List<CompletableFuture<HttpResponse<String>>> pair = List.of(
                    CompletableFuture.supplyAsync(() -> predict(gateway, "remote"), clients),
                    CompletableFuture.supplyAsync(() -> predict(gateway, "remote"), clients));
            for (CompletableFuture<HttpResponse<String>> call : pair) {
                assertEquals(200, call.get(20, TimeUnit.SECONDS).statusCode());
            }
            assertEquals(200, predict(gateway, "remote").statusCode());

            List<Received> spans = awaitSpans(receiver, 3);
            List<Long> batchSizes = spans.stream().map(span -> span.attribute("modelgate.batch_size"))
                    .map(value -> value == null ? 1L : value.getIntValue()).sorted().toList();
            assertEquals(List.of(1, 2), rowsPerCall.stream().sorted().toList(), "the backend calls");
            assertEquals(List.of(1L, 2L, 2L), batchSizes, spans.toString());
        }
    }

    @Test
    void theGatewayKeepsServingWhileTheCollectorHangsOrIsGone() throws Exception {
        int closedPort;
        try (ServerSocket socket = new ServerSocket(0)) {
            closedPort = socket.getLocalPort();
        }
        CountDownLatch hanging = new CountDownLatch(1);
        try (TestBackend hungCollector = TestBackend.start(request -> {
                    hanging.countDown();
                    return Reply.delayed(Duration.ofMinutes(5), 200, "application/x-protobuf", "");
                });
                TestBackend backend = TestBackend.start(request -> Reply.json(200, PREDICTION))) {
            for (String endpoint : List.of(hungCollector.url("/v1/traces"),
                    "http://127.0.0.1:" + closedPort + "/v1/traces")) {
                try (RunningGateway gateway = RunningGateway.start(config("""
                        endpoint: %s
                        timeout: 5s
                        batch:
                          max-queue-size: 4
                          max-export-batch-size: 2
                          schedule-delay: 10ms
                        """.formatted(endpoint), backend.url("/predict")))) {
                    long start = System.nanoTime();
                    for (int i = 0; i < 200; i++) {
                        HttpResponse<String> response = predict(gateway, "remote");
                        assertEquals(200, response.statusCode(), endpoint + ": " + response.body());
                    }
                    long took = System.nanoTime() - start;
                    // The queue holds 4 spans and an export of 2 waits up to 5 s: requests that waited for room
                    // would take about (200 - 4) / 2 * 5 s = 490 s. Generous for a loaded machine, yet far below.
                    assertTrue(took < TimeUnit.SECONDS.toNanos(60),
                            endpoint + ": 200 requests took " + took / 1_000_000 + " ms");
                }
            }
            assertTrue(hanging.await(10, TimeUnit.SECONDS), "the hung collector was asked");
        }
    }

    @Test
    void aBadSettingIsRefusedWithItsKeyPath() {
        Deployment.InvalidConfigException invalid = assertThrows(Deployment.InvalidConfigException.class,
                () -> RunningGateway.start(config("""
                        endpoint: ftp://collector/v1/traces
                        protocol: grpc
                        sampling-ratio: 1.5
                        headers:
                          Host: collector
                          x-api-key: ""
                        batch:
                          max-queue-size: 10
                          max-export-batch-size: 20
                        """, "http://127.0.0.1:1/predict")).close());
        String problems = String.join("\n", invalid.problems());
        for (String keyPath : List.of("middlewares[1].endpoint: must be an http or https URL",
                "middlewares[1].protocol: must be http/protobuf",
                "middlewares[1].sampling-ratio: must be a number from 0 to 1",
                "middlewares[1].headers.Host: is not a header the exporter can send",
                "middlewares[1].headers.x-api-key: must be the header's value",
                "middlewares[1].batch.max-export-batch-size: must be at most max-queue-size (10)")) {
            assertTrue(problems.contains(keyPath), keyPath + " in:\n" + problems);
        }
    }

    @Test
    void isPhasedSoItNeverHoldsAThreadWhileTheBackendWorks() throws Exception {
        try (var built = BuiltPlugin.middleware(new OpenTelemetryProvider(),
                "endpoint: http://127.0.0.1:9/v1/traces\ntimeout: 1s")) {
            assertInstanceOf(PhasedMiddleware.class, built.instance());
        }
    }
}
