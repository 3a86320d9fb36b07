package dev.modelgate.plugins.ratelimit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.modelgate.kernel.testing.RunningGateway;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The shipped examples, with one change: the demo model is the test backend {@code echo}, as the ONNX plugin is not
 * on this module's classpath. Each lets a client burst 10 requests, then refuses what its refill does not cover.
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

    /**
     * Sends 15 requests, taking turns over {@code gateways}, and checks the bucket the examples configure (bursts of
     * 10, refilled at 5 a second) admitted at least the burst and no more than it refilled meanwhile: as many as 10
     * plus 5 for each second the requests took, counted from before the first to after the last, so a slow machine
     * widens the bound instead of failing the test. Two gateways that each counted alone would admit all 15.
     */
    private static void assertOneBucketOfTen(RunningGateway... gateways) {
        long start = System.nanoTime();
        int admitted = 0;
        for (int i = 0; i < 15; i++) {
            int status = gateways[i % gateways.length].get("/v1/models/demo").statusCode();
            assertTrue(status == 200 || status == 429, "request " + i + " answered " + status);
            admitted += status == 200 ? 1 : 0;
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        assertTrue(admitted >= 10, "a burst of 10 is allowed, but only " + admitted + " were admitted");
        assertTrue(admitted <= 10 + Math.floor(5 * seconds),
                admitted + " admitted in " + seconds + "s, more than one bucket refills");
    }

    @Test
    void theLocalExampleLetsEachClientBurstTen() throws Exception {
        try (RunningGateway gateway = RunningGateway.start(runnable("ratelimit-local.yaml"))) {
            assertOneBucketOfTen(gateway);
        }
    }

    @Test
    void theRedisExampleLetsEachClientBurstTenAcrossInstances() throws Exception {
        try (RedisServer redis = RedisServer.start()) {
            Map<String, String> environment = Map.of("MODELGATE_REDIS_URL", redis.url());
            try (RunningGateway one = RunningGateway.start(runnable("ratelimit-redis.yaml"), null, environment);
                    RunningGateway two = RunningGateway.start(runnable("ratelimit-redis.yaml"), null, environment)) {
                assertOneBucketOfTen(one, two);
            }
        }
    }
}
