package dev.modelgate.plugins.opentelemetry;

import dev.modelgate.spi.ConfigNode;
import dev.modelgate.spi.Middleware;
import dev.modelgate.spi.MiddlewareProvider;
import dev.modelgate.spi.PluginContext;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.metrics.MeterProvider;
import io.opentelemetry.exporter.otlp.http.trace.OtlpHttpSpanExporter;
import io.opentelemetry.exporter.otlp.http.trace.OtlpHttpSpanExporterBuilder;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.export.BatchSpanProcessor;
import io.opentelemetry.sdk.trace.samplers.Sampler;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The {@code opentelemetry} middleware: exports one span per request over OTLP (HTTP, protobuf) with the
 * OpenTelemetry Java SDK, under the ids of the {@code trace-context} middleware, which must come before it. A trace a
 * client sampled is exported, one it did not is not, and one the gateway starts is sampled at {@code sampling-ratio}.
 */
public final class OpenTelemetryProvider implements MiddlewareProvider {

    private static final String HTTP_PROTOBUF = "http/protobuf";
    private static final Pattern HEADER_NAME = Pattern.compile("[!#$%&'*+.^_`|~0-9A-Za-z-]+");
    /** Headers the JDK's HTTP client sets itself and refuses to be given. */
    private static final Set<String> RESTRICTED_HEADERS = Set.of("connection", "content-length", "expect", "host",
            "upgrade");

    @Override
    public String type() {
        return "opentelemetry";
    }

    @Override
    public Middleware create(ConfigNode config, PluginContext context) {
        boolean valid = true;
        String endpoint = config.string("endpoint", "http://localhost:4318/v1/traces");
        valid &= checkEndpoint(config, endpoint);
        String protocol = config.string("protocol", HTTP_PROTOBUF);
        if (!protocol.equals(HTTP_PROTOBUF)) {
            config.problem("protocol", "must be " + HTTP_PROTOBUF + " (OTLP over HTTP, as collectors take it on "
                    + "port 4318), but was '" + protocol + "'");
            valid = false;
        }
        Map<String, String> headers = new LinkedHashMap<>();
        valid &= readHeaders(config.child("headers"), headers);
        Duration timeout = config.duration("timeout", Duration.ofSeconds(10));
        double samplingRatio = samplingRatio(config);
        valid &= samplingRatio >= 0;
        String serviceName = config.string("service-name", "modelgate");
        if (serviceName.isBlank()) {
            config.problem("service-name", "must not be blank");
            valid = false;
        }
        ConfigNode batch = config.child("batch");
        int maxQueueSize = batch.integer("max-queue-size", 2048, 1, 1 << 20);
        int maxExportBatchSize = batch.integer("max-export-batch-size", 512, 1, 1 << 16);
        Duration scheduleDelay = batch.duration("schedule-delay", Duration.ofSeconds(5));
        if (maxExportBatchSize > maxQueueSize) {
            batch.problem("max-export-batch-size", "must be at most max-queue-size (" + maxQueueSize + "), but was "
                    + maxExportBatchSize);
            valid = false;
        }
        if (!valid) {
            return null;
        }
        OtlpHttpSpanExporterBuilder exporter = OtlpHttpSpanExporter.builder()
                .setEndpoint(endpoint)
                .setTimeout(timeout)
                .setMeterProvider(MeterProvider::noop);
        headers.forEach(exporter::addHeader);
        GatewaySpanIds ids = new GatewaySpanIds();
        SdkTracerProvider tracerProvider = SdkTracerProvider.builder()
                .setResource(Resource.getDefault().merge(Resource.create(
                        Attributes.of(AttributeKey.stringKey("service.name"), serviceName))))
                .setSampler(Sampler.parentBased(Sampler.traceIdRatioBased(samplingRatio)))
                .setIdGenerator(ids)
                .addSpanProcessor(BatchSpanProcessor.builder(exporter.build())
                        .setMaxQueueSize(maxQueueSize)
                        .setMaxExportBatchSize(maxExportBatchSize)
                        .setScheduleDelay(scheduleDelay)
                        .setExporterTimeout(timeout)
                        .setMeterProvider(MeterProvider.noop())
                        .build())
                .build();
        return new SpanExport(tracerProvider, ids, context.clock(), timeout, context.logger());
    }

    private static boolean checkEndpoint(ConfigNode config, String endpoint) {
        try {
            URI uri = new URI(endpoint);
            String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
            if ((scheme.equals("http") || scheme.equals("https")) && uri.getHost() != null) {
                return true;
            }
        } catch (URISyntaxException e) {
            // Reported below, as every other malformed endpoint.
        }
        config.problem("endpoint", "must be an http or https URL with a host, such as "
                + "http://collector:4318/v1/traces, but was '" + endpoint + "'");
        return false;
    }

    /** Reads the headers sent with every export into {@code headers}; false after reporting a bad one. */
    private static boolean readHeaders(ConfigNode node, Map<String, String> headers) {
        boolean valid = true;
        // Read as a whole: its keys are header names, not settings of the reference.
        for (var header : node.raw().properties()) {
            String name = header.getKey();
            if (!HEADER_NAME.matcher(name).matches() || RESTRICTED_HEADERS.contains(name.toLowerCase(Locale.ROOT))) {
                node.problem(name, "is not a header the exporter can send");
                valid = false;
            } else if (!header.getValue().isValueNode() || header.getValue().isNull()
                    || header.getValue().asText().isBlank() || header.getValue().asText().contains("\n")) {
                node.problem(name, "must be the header's value, a single line of text");
                valid = false;
            } else {
                headers.put(name, header.getValue().asText());
            }
        }
        return valid;
    }

    /** The ratio of new traces sampled, 0 to 1; -1 after reporting a bad one. */
    private static double samplingRatio(ConfigNode config) {
        String written = config.string("sampling-ratio", "1.0");
        try {
            double ratio = Double.parseDouble(written.trim());
            if (ratio >= 0 && ratio <= 1) {
                return ratio;
            }
        } catch (NumberFormatException e) {
            // Reported below, as a ratio out of range.
        }
        config.problem("sampling-ratio", "must be a number from 0 to 1, such as 0.1, but was '" + written + "'");
        return -1;
    }
}
