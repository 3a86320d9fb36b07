package dev.modelgate.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.modelgate.kernel.testing.MetricScrape;
import dev.modelgate.kernel.testing.RunningGateway;
import dev.modelgate.kernel.testing.TestBackend;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Grafana dashboard in {@code deploy/grafana} is built on the metrics a gateway exports: every metric name its
 * queries use is in the scrape of a real gateway running the built-in plugins they chart.
 */
class GrafanaDashboardTest {

    private static final Path DASHBOARD = Path.of("../../deploy/grafana/modelgate.json");
    /** The gateway's, the JVM's and the process's metric names, as a PromQL query names them. */
    private static final Pattern METRIC = Pattern.compile("\\b(?:modelgate|jvm|process)_[a-z0-9_]+\\b");

    private static List<String> queries(JsonNode dashboard) {
        List<String> queries = new ArrayList<>();
        for (JsonNode panel : dashboard.get("panels")) {
            for (JsonNode target : panel.get("targets")) {
                queries.add(target.get("expr").asText());
            }
        }
        return queries;
    }

    @Test
    void everyMetricTheDashboardQueriesIsExported(@TempDir Path dir) throws Exception {
        JsonNode dashboard = new ObjectMapper().readTree(DASHBOARD.toFile());
        assertEquals("prometheus", dashboard.at("/templating/list/0/query").asText());
        Set<String> used = new TreeSet<>();
        for (String query : queries(dashboard)) {
            Matcher names = METRIC.matcher(query);
            while (names.find()) {
                used.add(names.group());
            }
        }
        assertFalse(used.isEmpty());

        MetricScrape scrape;
        try (TestBackend model = TestBackend.start(request -> TestBackend.Reply.json(200, "{\"predictions\":[[1]]}"));
                RunningGateway gateway = RunningGateway.start("""
                        middlewares:
                          - type: access-log
                            output: %s
                          - type: rate-limit
                            key: client-ip
                            limits: [{rate: 100, period: 1s}]
                        backends:
                          remote:
                            type: http
                            url: '%s'
                            filters:
                              - type: retry
                              - type: bulkhead
                                max-concurrent-calls: 10
                              - type: circuit-breaker
                        routes:
                          - model: remote
                            backend: remote
                            idempotent: true
                        """.formatted(dir.resolve("access.log"), model.url("/predict")))) {
            assertEquals(200, gateway.post("/v1/models/remote:predict", "application/json",
                    "{\"instances\":[[1.0]]}").statusCode());
            gateway.awaitMetric("modelgate_requests_in_flight 0");
            scrape = gateway.metrics();
        }

        for (String name : used) {
            assertTrue(scrape.has(name), "the dashboard queries " + name + ", which the gateway does not export");
        }
    }
}
