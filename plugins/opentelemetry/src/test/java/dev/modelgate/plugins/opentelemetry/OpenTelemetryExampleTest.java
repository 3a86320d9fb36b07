package dev.modelgate.plugins.opentelemetry;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.modelgate.kernel.testing.Await;
import dev.modelgate.kernel.testing.RunningGateway;
import dev.modelgate.kernel.testing.TestBackend;
import dev.modelgate.kernel.testing.TestBackend.Reply;
import dev.modelgate.plugins.opentelemetry.OtlpReceiver.Received;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** conf/examples/opentelemetry.yaml, as shipped, exporting to a real OTLP/HTTP receiver. */
class OpenTelemetryExampleTest {

    @Test
    void theShippedExampleExportsTheSpanTheModelServerHangsUnder() throws Exception {
        String example = Files.readString(Path.of("../../conf/examples/opentelemetry.yaml"));
        try (OtlpReceiver receiver = OtlpReceiver.start();
                TestBackend backend = TestBackend.start(request -> Reply.json(200, "{\"predictions\":[[1.0]]}"));
                RunningGateway gateway = RunningGateway.start(example, null, Map.of(
                        "MODELGATE_BACKEND_URL", backend.url("/v1/models/remote:predict"),
                        "MODELGATE_OTLP_ENDPOINT", receiver.endpoint()))) {
            String traceId = "0af7651916cd43dd8448eb211c80319c";
            assertEquals(200, gateway.post("/v1/models/remote:predict", "application/json",
                    "{\"instances\":[[1.0]]}", "traceparent", "00-" + traceId + "-b7ad6b7169203331-01").statusCode());

            Received span = Await.until("the span at the receiver", Await.DEADLINE,
                    () -> receiver.spans().isEmpty() ? null : receiver.spans().getFirst(), () -> "none");
            assertEquals("00-" + traceId + "-" + span.spanId() + "-01",
                    backend.lastRequest().headers().first("traceparent"));
            assertEquals("b7ad6b7169203331", span.parentSpanId());
            assertEquals("remote", span.attribute("modelgate.backend").getStringValue());
            assertEquals("modelgate", span.resourceAttribute("service.name").getStringValue());
        }
    }
}
