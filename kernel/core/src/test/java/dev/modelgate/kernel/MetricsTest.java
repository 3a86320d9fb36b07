package dev.modelgate.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.modelgate.kernel.testing.PrometheusParser;
import dev.modelgate.kernel.testing.PrometheusParser.Format;
import dev.modelgate.kernel.testing.RunningGateway;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The admin listener's {@code /metrics}, read by the Prometheus project's own parser: histograms with the explicit
 * buckets, the five-digit code on the request counter, the backend's latency apart, requests in flight, the JVM's and
 * the process's metrics, and OpenMetrics with {@code # UNIT} for a scraper that asks for it.
 */
class MetricsTest {

    private static final String PREDICT_BODY = "{\"instances\":[[1.0]]}";
    private static final String OPENMETRICS = "application/openmetrics-text; version=1.0.0; charset=utf-8";
    private static RunningGateway gateway;

    @BeforeAll
    static void startAndServeThreeRequests() throws Exception {
        gateway = RunningGateway.start(RunningGateway.ECHO_ROUTE.replace("routes:\n", """
                  broken:
                    type: echo
                    fail: status-500
                routes:
                  - model: b
                    backend: broken
                """));
        assertEquals(200, gateway.post("/v1/models/m:predict", "application/json", PREDICT_BODY).statusCode());
        assertEquals(502, gateway.post("/v1/models/b:predict", "application/json", PREDICT_BODY).statusCode());
        assertEquals(404, gateway.post("/v1/models/nope:predict", "application/json", PREDICT_BODY).statusCode());
        // The scrape below must not race the last request's bookkeeping, which ends after its answer.
        gateway.awaitMetric("modelgate_requests_in_flight 0");
    }

    @AfterAll
    static void stop() throws Exception {
        gateway.close();
    }

    private static HttpResponse<String> scrape(String accept) {
        HttpRequest.Builder request = HttpRequest.newBuilder(gateway.adminUri("/metrics"));
        return accept == null ? RunningGateway.send(request) : RunningGateway.send(request, "Accept", accept);
    }

    private static List<JsonNode> samples(JsonNode family, String sampleName) {
        return StreamSupport.stream(family.get("samples").spliterator(), false)
                .filter(sample -> sample.get("name").asText().equals(sampleName)).toList();
    }

    private static double value(JsonNode family, String sampleName, Map<String, String> labels) {
        return samples(family, sampleName).stream()
                .filter(sample -> labels.entrySet().stream()
                        .allMatch(label -> label.getValue().equals(sample.get("labels").path(label.getKey()).asText())))
                .mapToDouble(sample -> sample.get("value").asDouble())
                .findFirst().orElseThrow(() -> new AssertionError("no " + sampleName + labels + " in " + family));
    }

    @Test
    void requestsAreCountedByRouteBackendStatusAndCode() {
        HttpResponse<String> response = scrape(null);
        assertTrue(response.headers().firstValue("Content-Type").orElseThrow().startsWith("text/plain; version=0.0.4"));
        JsonNode requests = PrometheusParser.parse(response.body(), Format.PROMETHEUS_TEXT).get("modelgate_requests");

        assertEquals("counter", requests.get("type").asText());
        assertEquals(1, value(requests, "modelgate_requests_total",
                Map.of("route", "m:v1", "backend", "echo", "status", "200", "code", "0")));
        assertEquals(1, value(requests, "modelgate_requests_total",
                Map.of("route", "b:v1", "backend", "broken", "status", "502", "code", "40005")));
        assertEquals(1, value(requests, "modelgate_requests_total",
                Map.of("route", "-", "backend", "-", "status", "404", "code", "40001")));
    }

    @Test
    void latenciesAreHistogramsWithTheExplicitBucketsAndTheBackendsPartApart() {
        Map<String, JsonNode> families = PrometheusParser.parse(scrape(null).body(), Format.PROMETHEUS_TEXT);
        List<String> buckets = new ArrayList<>(Arrays.stream(MetricsRegistry.LATENCY_BUCKETS)
                .mapToObj(Double::toString).toList());
        buckets.add("+Inf");

        JsonNode total = families.get("modelgate_request_duration_seconds");
        assertEquals("histogram", total.get("type").asText());
        assertEquals(buckets, samples(total, "modelgate_request_duration_seconds_bucket").stream()
                .filter(sample -> sample.get("labels").get("route").asText().equals("m:v1"))
                .map(sample -> sample.get("labels").get("le").asText()).toList());
        assertEquals(1, value(total, "modelgate_request_duration_seconds_count", Map.of("route", "m:v1")));
        assertEquals(1, value(total, "modelgate_request_duration_seconds_bucket",
                Map.of("route", "m:v1", "le", "+Inf")));

        JsonNode backend = families.get("modelgate_backend_request_duration_seconds");
        assertEquals("histogram", backend.get("type").asText());
        assertEquals(1, value(backend, "modelgate_backend_request_duration_seconds_count", Map.of("backend", "echo")));
        assertEquals(1, value(backend, "modelgate_backend_request_duration_seconds_count",
                Map.of("backend", "broken")));
        assertTrue(value(backend, "modelgate_backend_request_duration_seconds_sum", Map.of("backend", "echo"))
                <= value(total, "modelgate_request_duration_seconds_sum", Map.of("route", "m:v1")),
                "the backend's part is within the request's latency");
    }

    @Test
    void requestsInFlightAreAGauge() {
        JsonNode inFlight = PrometheusParser.parse(scrape(null).body(), Format.PROMETHEUS_TEXT)
                .get("modelgate_requests_in_flight");

        assertEquals("gauge", inFlight.get("type").asText());
        assertEquals(0, value(inFlight, "modelgate_requests_in_flight", Map.of()));
    }

    @Test
    void theJvmAndTheProcessReportTheirHeapGcThreadsFileDescriptorsAndCpu() {
        Map<String, JsonNode> families = PrometheusParser.parse(scrape(null).body(), Format.PROMETHEUS_TEXT);

        for (String family : List.of("jvm_memory_used_bytes", "jvm_gc_collection_seconds", "jvm_threads_current",
                "process_open_fds", "process_cpu_seconds")) {
            assertTrue(families.containsKey(family), family + " in " + families.keySet());
        }
        assertTrue(value(families.get("jvm_memory_used_bytes"), "jvm_memory_used_bytes", Map.of("area", "heap")) > 0);
        assertTrue(value(families.get("process_open_fds"), "process_open_fds", Map.of()) > 0);
    }

    @Test
    void aScraperAskingForOpenMetricsGetsItWithUnits() {
        HttpResponse<String> response = scrape(OPENMETRICS);

        assertTrue(response.headers().firstValue("Content-Type").orElseThrow()
                .startsWith("application/openmetrics-text; version=1.0.0"));
        assertTrue(response.body().endsWith("# EOF\n"), "an OpenMetrics exposition ends with # EOF");
        assertTrue(response.body().contains("# UNIT modelgate_request_duration_seconds seconds\n"), response.body());
        Map<String, JsonNode> families = PrometheusParser.parse(response.body(), Format.OPENMETRICS);
        assertEquals("seconds", families.get("modelgate_request_duration_seconds").get("unit").asText());
        assertEquals(1, value(families.get("modelgate_requests"), "modelgate_requests_total",
                Map.of("route", "m:v1", "code", "0")));
    }

    /** Prometheus's own Accept header when it may scrape Protobuf: the gateway answers its next choice. */
    @Test
    void aScraperPreferringProtobufGetsItsNextChoice() {
        HttpResponse<String> response = scrape("application/vnd.google.protobuf;"
                + "proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.8,"
                + "application/openmetrics-text;version=1.0.0;q=0.6,text/plain;version=0.0.4;q=0.3,*/*;q=0.2");

        assertEquals(200, response.statusCode());
        assertTrue(response.headers().firstValue("Content-Type").orElseThrow()
                .startsWith("application/openmetrics-text"));
        PrometheusParser.parse(response.body(), Format.OPENMETRICS);
    }
}
