package dev.modelgate.plugins.ratelimit;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.modelgate.kernel.testing.RunningGateway;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The shipped examples, with one change: the demo model is the test backend {@code echo}, as the ONNX plugin is not
 * on this module's classpath. Each lets a client burst 10 requests, then refuses the next.
 */
class ExamplesTest {

    private static final Path EXAMPLES = Path.of("../../conf/examples");

    /** The example as JSON (which is YAML too), served by the echo backend. */
    private static String runnable(String example) throws Exception {
        ObjectNode config = (ObjectNode) new ObjectMapper(new YAMLFactory()).readTree(EXAMPLES.resolve(example)
                .toFile());
        ObjectNode demo = (ObjectNode) config.path("backends").path("demo");
        assertEquals("onnx", demo.path("type").asText());
        demo.removeAll().put("type", "echo");
        return config.toString();
    }

    private static void assertBurstOfTenThenLimited(RunningGateway gateway) {
        for (int i = 0; i < 10; i++) {
            assertEquals(200, gateway.get("/v1/models/demo").statusCode(), "request " + i);
        }
        assertEquals(429, gateway.get("/v1/models/demo").statusCode());
    }

    @Test
    void theLocalExampleLetsEachClientBurstTen() throws Exception {
        try (RunningGateway gateway = RunningGateway.start(runnable("ratelimit-local.yaml"))) {
            assertBurstOfTenThenLimited(gateway);
        }
    }

    @Test
    void theRedisExampleLetsEachClientBurstTenAcrossInstances() throws Exception {
        try (RedisServer redis = RedisServer.start()) {
            Map<String, String> environment = Map.of("MODELGATE_REDIS_URL", redis.url());
            try (RunningGateway gateway = RunningGateway.start(runnable("ratelimit-redis.yaml"), null, environment)) {
                assertBurstOfTenThenLimited(gateway);
            }
        }
    }
}
