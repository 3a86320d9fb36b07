package dev.modelgate.plugins.tracecontext;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.modelgate.kernel.testing.Await;
import dev.modelgate.kernel.testing.BuiltPlugin;
import dev.modelgate.kernel.testing.RunningGateway;
import dev.modelgate.kernel.testing.TestBackend;
import dev.modelgate.kernel.testing.TestBackend.Reply;
import dev.modelgate.spi.PhasedMiddleware;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** W3C Trace Context through a real gateway to a real model server stand-in, and into the access log. */
class TraceContextTest {

    private static final Pattern TRACEPARENT = Pattern.compile("00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}");
    private static final String CLIENTS = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    private static RunningGateway gateway(TestBackend backend, Path accessLog) throws Exception {
        return RunningGateway.start("""
                middlewares:
                  - type: trace-context
                  - type: access-log
                    output: %s
                backends:
                  remote:
                    type: http
                    url: %s
                routes:
                  - model: remote
                    backend: remote
                """.formatted(accessLog, backend.url("/predict")));
    }

    @Test
    void aClientsTraceReachesTheBackendWithTheGatewaysSpanAsParentAndItsIdIsLogged(@TempDir Path folder)
            throws Exception {
        Path accessLog = folder.resolve("access.log");
        try (TestBackend backend = TestBackend.start(request -> Reply.json(200, "{\"predictions\":[[1.0]]}"));
                RunningGateway gateway = gateway(backend, accessLog)) {
            assertEquals(200, gateway.post("/v1/models/remote:predict", "application/json", "{\"instances\":[[1]]}",
                    "traceparent", CLIENTS, "tracestate", "vendor=abc").statusCode());

            String sent = backend.lastRequest().headers().first("traceparent");
            assertTrue(TRACEPARENT.matcher(sent).matches(), sent);
            assertEquals(CLIENTS.substring(0, 36), sent.substring(0, 36), "the same trace: " + sent);
            assertNotEquals(CLIENTS.substring(36, 52), sent.substring(36, 52), "a new parent: the gateway's span");
            assertEquals("01", sent.substring(53), "the client's sampling decision");
            assertEquals("vendor=abc", backend.lastRequest().headers().first("tracestate"));
            List<String> lines = Await.lines(accessLog, written -> !written.isEmpty());
            assertTrue(lines.getFirst().contains("\"trace_id\":\"4bf92f3577b34da6a3ce929d0e0e4736\""),
                    lines.getFirst());
        }
    }

    @Test
    void aRequestWithoutAValidTraceparentStartsANewTrace(@TempDir Path folder) throws Exception {
        try (TestBackend backend = TestBackend.start(request -> Reply.json(200, "{\"predictions\":[[1.0]]}"));
                RunningGateway gateway = gateway(backend, folder.resolve("access.log"))) {
            gateway.post("/v1/models/remote:predict", "application/json", "{\"instances\":[[1]]}",
                    "traceparent", "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
                    "tracestate", "vendor=abc");

            String sent = backend.lastRequest().headers().first("traceparent");
            assertTrue(TRACEPARENT.matcher(sent).matches(), sent);
            assertNotEquals("00000000000000000000000000000000", sent.substring(3, 35));
            assertEquals("00", sent.substring(53), "a trace the gateway starts is not sampled: it exports no spans");
            assertNull(backend.lastRequest().headers().first("tracestate"),
                    "a tracestate belongs to the trace it came with");
        }
    }

    @Test
    void isPhasedSoItNeverHoldsAThreadWhileTheBackendWorks() throws Exception {
        try (var built = BuiltPlugin.middleware(new TraceContextProvider(), "trust-incoming: false")) {
            assertInstanceOf(PhasedMiddleware.class, built.instance());
        }
    }
}
