package dev.modelgate.kernel.testing;

import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A scrape read by the Prometheus project's own Python client ({@code prometheus_client}, Debian's
 * python3-prometheus-client, which {@code scripts/test} installs): a parser other than ours, so that a test proves
 * the output is what Prometheus reads, not only what our reader expects.
 */
public final class PrometheusParser {

    /** Debian's own interpreter, where apt puts the library (a pyenv or venv python3 on PATH lacks it). */
    private static final String DEBIAN_PYTHON = "/usr/bin/python3";
    private static final String PROGRAM = """
            import json, sys
            from prometheus_client.parser import text_string_to_metric_families as prometheus
            from prometheus_client.openmetrics.parser import text_string_to_metric_families as openmetrics
            parse = openmetrics if sys.argv[1] == 'openmetrics' else prometheus
            json.dump({family.name: {'type': family.type, 'unit': family.unit, 'samples': [
                {'name': s.name, 'labels': s.labels, 'value': s.value} for s in family.samples]}
                for family in parse(sys.stdin.read())}, sys.stdout)
            """;
    private static final JsonMapper JSON = JsonMapper.builder()
            .enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS).build();

    /** The format of a scrape. */
    public enum Format { PROMETHEUS_TEXT, OPENMETRICS }

    private PrometheusParser() {
    }

    /**
     * The families of {@code scrape}, by family name (a counter's without {@code _total}), each an object with
     * {@code type}, {@code unit} and {@code samples} (each with {@code name}, {@code labels} and {@code value}).
     *
     * @throws AssertionError when the parser refuses the text, with its reason
     */
    public static Map<String, JsonNode> parse(String scrape, Format format) {
        try {
            Process python = new ProcessBuilder(DEBIAN_PYTHON, "-c", PROGRAM,
                    format == Format.OPENMETRICS ? "openmetrics" : "prometheus").start();
            try (var stdin = python.getOutputStream()) {
                stdin.write(scrape.getBytes(StandardCharsets.UTF_8));
            }
            byte[] output = python.getInputStream().readAllBytes();
            String errors = new String(python.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!python.waitFor(30, TimeUnit.SECONDS) || python.exitValue() != 0) {
                throw new AssertionError("prometheus_client refused the scrape (scripts/test installs "
                        + "python3-prometheus-client): " + errors + "\n" + scrape);
            }
            Map<String, JsonNode> families = new HashMap<>();
            JSON.readTree(output).properties().forEach(family -> families.put(family.getKey(), family.getValue()));
            return families;
        } catch (IOException e) {
            throw new AssertionError("could not run " + DEBIAN_PYTHON, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }
}
