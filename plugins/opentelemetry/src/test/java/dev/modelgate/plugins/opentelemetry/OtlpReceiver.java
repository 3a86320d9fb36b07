package dev.modelgate.plugins.opentelemetry;

import dev.modelgate.kernel.testing.TestBackend;
import dev.modelgate.kernel.testing.TestBackend.Reply;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.resource.v1.Resource;
import io.opentelemetry.proto.trace.v1.Span;
import java.io.IOException;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A real OTLP/HTTP traces receiver on loopback, as a collector's {@code otlp} receiver on port 4318: takes
 * {@code POST /v1/traces} bodies of {@code ExportTraceServiceRequest} protobuf, decodes them with the protocol's own
 * generated messages, and keeps every span with its resource.
 */
final class OtlpReceiver implements AutoCloseable {

    /** One received span and the resource it was reported under. */
    record Received(Span span, Resource resource, String contentType) {

        String traceId() {
            return HexFormat.of().formatHex(span.getTraceId().toByteArray());
        }

        String spanId() {
            return HexFormat.of().formatHex(span.getSpanId().toByteArray());
        }

        String parentSpanId() {
            return HexFormat.of().formatHex(span.getParentSpanId().toByteArray());
        }

        /** The attribute's value, or {@code null} when the span lacks it. */
        AnyValue attribute(String key) {
            return find(span.getAttributesList(), key);
        }

        AnyValue resourceAttribute(String key) {
            return find(resource.getAttributesList(), key);
        }

        private static AnyValue find(List<KeyValue> attributes, String key) {
            return attributes.stream().filter(kv -> kv.getKey().equals(key)).map(KeyValue::getValue).findFirst()
                    .orElse(null);
        }
    }

    private final List<Received> spans = new CopyOnWriteArrayList<>();
    private final TestBackend server;

    private OtlpReceiver() throws IOException {
        server = TestBackend.start(request -> {
            if (!request.method().equals("POST") || !request.path().equals("/v1/traces")) {
                return Reply.json(404, "{}");
            }
            String contentType = request.headers().first("Content-Type");
            ExportTraceServiceRequest export = ExportTraceServiceRequest.parseFrom(request.body());
            export.getResourceSpansList().forEach(resourceSpans -> resourceSpans.getScopeSpansList()
                    .forEach(scope -> scope.getSpansList().forEach(span ->
                            spans.add(new Received(span, resourceSpans.getResource(), contentType)))));
            // An empty ExportTraceServiceResponse: everything accepted.
            return new Reply(200, "application/x-protobuf", "");
        });
    }

    static OtlpReceiver start() throws IOException {
        return new OtlpReceiver();
    }

    String endpoint() {
        return server.url("/v1/traces");
    }

    List<Received> spans() {
        return List.copyOf(spans);
    }

    @Override
    public void close() {
        server.close();
    }
}
