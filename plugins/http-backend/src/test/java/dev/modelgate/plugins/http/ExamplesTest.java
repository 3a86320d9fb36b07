package dev.modelgate.plugins.http;

import static dev.modelgate.plugins.http.Gateways.PREDICTIONS;
import static dev.modelgate.plugins.http.Gateways.predict;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.modelgate.kernel.testing.RunningGateway;
import dev.modelgate.kernel.testing.TestBackend.Reply;
import dev.modelgate.kernel.testing.TestBackend;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The shipped examples, run as their comments say, against test model servers. The global middlewares are dropped:
 * their plugins are not on this module's classpath.
 */
class ExamplesTest {

    private static final Path EXAMPLES = Path.of("../../conf/examples");

    static String runnable(String example) throws Exception {
        ObjectNode config = (ObjectNode) new ObjectMapper(new YAMLFactory())
                .readTree(EXAMPLES.resolve(example).toFile());
        config.remove("middlewares");
        return config.toString();
    }

    /** A model server that also answers TensorFlow Serving's model status, which the example health-checks. */
    private static TestBackend modelServer(AtomicInteger predictions) throws Exception {
        return TestBackend.start(request -> {
            if (request.method().equals("GET")) {
                return Reply.json(200, "{\"model_version_status\":[{\"state\":\"AVAILABLE\"}]}");
            }
            predictions.incrementAndGet();
            return Reply.json(200, PREDICTIONS);
        });
    }

    @Test
    void theCanaryExampleSendsATenthOfTrafficAndEveryForcedRequestToTheCanary() throws Exception {
        AtomicInteger toStable = new AtomicInteger();
        AtomicInteger toCanary = new AtomicInteger();
        try (TestBackend stable = modelServer(toStable); TestBackend canary = modelServer(toCanary);
                RunningGateway gateway = RunningGateway.start(runnable("canary.yaml"), null, Map.of(
                        "MODELGATE_BACKEND_URL", stable.url("/v1/models/remote:predict"),
                        "MODELGATE_CANARY_URL", canary.url("/v1/models/remote:predict")))) {
            for (int i = 0; i < 100; i++) {
                assertEquals(200, predict(gateway).statusCode());
            }
            assertEquals(90, toStable.get());
            assertEquals(10, toCanary.get());

            for (int i = 0; i < 5; i++) {
                assertEquals(200, predict(gateway, "X-Canary", "always").statusCode());
            }
            assertEquals(15, toCanary.get());
        }
    }

    @Test
    void theFailoverExampleMovesTrafficToTheOtherRegionAndBack() throws Exception {
        AtomicInteger toEu = new AtomicInteger();
        AtomicInteger toUs = new AtomicInteger();
        AtomicBoolean euDown = new AtomicBoolean();
        TestBackend.Handler eu = request -> {
            if (euDown.get()) {
                return Reply.json(503, "{\"error\":\"region down\"}");
            }
            if (request.method().equals("GET")) {
                return Reply.json(200, "{\"model_version_status\":[{\"state\":\"AVAILABLE\"}]}");
            }
            toEu.incrementAndGet();
            return Reply.json(200, PREDICTIONS);
        };
        try (TestBackend eu1 = TestBackend.start(eu); TestBackend eu2 = TestBackend.start(eu);
                TestBackend us1 = modelServer(toUs); TestBackend us2 = modelServer(toUs);
                RunningGateway gateway = RunningGateway.start(runnable("failover.yaml"), null, Map.of(
                        "MODELGATE_LOCALITY", "eu-west-1",
                        "MODELGATE_EU_1_URL", eu1.url("/v1/models/remote:predict"),
                        "MODELGATE_EU_2_URL", eu2.url("/v1/models/remote:predict"),
                        "MODELGATE_US_1_URL", us1.url("/v1/models/remote:predict"),
                        "MODELGATE_US_2_URL", us2.url("/v1/models/remote:predict")))) {
            predictTimes(gateway, 10);
            assertEquals(10, toEu.get(), "the gateway's own region takes everything while healthy");

            euDown.set(true);
            gateway.awaitMetric("modelgate_backend_priority_load{backend=\"remote\",priority=\"1\"} 100");
            predictTimes(gateway, 10);
            assertEquals(10, toUs.get(), "a regional outage moves every request to the other region");

            euDown.set(false);
            gateway.awaitMetric("modelgate_backend_priority_load{backend=\"remote\",priority=\"0\"} 100");
            predictTimes(gateway, 10);
            assertEquals(20, toEu.get(), "and they come back with its health");
        }
    }

    private static void predictTimes(RunningGateway gateway, int times) {
        for (int i = 0; i < times; i++) {
            assertEquals(200, predict(gateway).statusCode());
        }
    }

    @Test
    void theSingleUrlExampleStillStarts() throws Exception {
        try (TestBackend backend = modelServer(new AtomicInteger());
                RunningGateway gateway = RunningGateway.start(runnable("http-backend.yaml"), null,
                        Map.of("MODELGATE_BACKEND_URL", backend.url("/v1/models/remote:predict")))) {
            assertEquals(200, predict(gateway).statusCode());
        }
    }
}
