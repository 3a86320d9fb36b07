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
    void theSingleUrlExampleStillStarts() throws Exception {
        try (TestBackend backend = modelServer(new AtomicInteger());
                RunningGateway gateway = RunningGateway.start(runnable("http-backend.yaml"), null,
                        Map.of("MODELGATE_BACKEND_URL", backend.url("/v1/models/remote:predict")))) {
            assertEquals(200, predict(gateway).statusCode());
        }
    }
}
