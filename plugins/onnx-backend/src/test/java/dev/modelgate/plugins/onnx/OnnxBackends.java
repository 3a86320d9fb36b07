package dev.modelgate.plugins.onnx;

import com.fasterxml.jackson.databind.JsonNode;
import dev.modelgate.kernel.MetricsRegistry;
import dev.modelgate.spi.Backend;
import dev.modelgate.spi.ConfigNode;
import dev.modelgate.spi.Metrics;
import dev.modelgate.spi.PluginContext;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;

/** Builds onnx backends for tests the way the kernel does: from a config node, through the provider. */
final class OnnxBackends {

    private record Context(String name, Metrics metrics, Clock clock, System.Logger logger) implements PluginContext {
    }

    /** What {@code create} returned, and the problems it reported. */
    record Created(Backend backend, List<String> problems) {
    }

    private OnnxBackends() {
    }

    /** The backend for {@code config}, a JSON object, failing the test when the configuration has problems. */
    static OnnxBackend create(String config) throws Exception {
        Created created = tryCreate(config);
        if (!created.problems().isEmpty()) {
            throw new AssertionError("unexpected config problems: " + created.problems());
        }
        return (OnnxBackend) created.backend();
    }

    static Created tryCreate(String config) throws Exception {
        JsonNode node = PredictExchange.JSON.readTree(config);
        List<String> problems = new ArrayList<>();
        ConfigNode root = ConfigNode.root(node, problems);
        Backend backend = new OnnxBackendProvider().create(root,
                new Context("backends.test", new MetricsRegistry(), Clock.systemUTC(), System.getLogger("onnx")));
        root.reportUnknownKeys();
        return new Created(backend, problems);
    }
}
