package dev.modelgate.plugins.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.modelgate.kernel.testing.RunningGateway;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The shipped conf/examples/grpc-backend.yaml, run as its comment says, against a real gRPC model server. */
class ExampleTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void theGrpcBackendExampleAnswersBothCurlCalls() throws Exception {
        String example = Files.readString(Path.of("../../conf/examples/grpc-backend.yaml"));
        try (ModelServer server = ModelServer.start();
                RunningGateway gateway = RunningGateway.start(example, null, Map.of(
                        "MODELGATE_GRPC_KSERVE_URL", server.url(), "MODELGATE_MODEL_SERVICE_URL", server.url()))) {
            HttpResponse<String> kserve = gateway.post("/v2/models/double/infer", "application/json",
                    "{\"inputs\":[{\"name\":\"x\",\"shape\":[3],\"datatype\":\"FP32\",\"data\":[1,2,5]}]}");
            HttpResponse<String> tfServing = gateway.post("/tfserving/v1/models/half:predict", "application/json",
                    "{\"instances\":[[1,2,5]]}");

            assertEquals(200, kserve.statusCode(), kserve.body());
            assertEquals(JSON.readTree("[2.0,4.0,10.0]"), JSON.readTree(kserve.body()).get("outputs").get(0)
                    .get("data"));
            assertEquals(200, tfServing.statusCode(), tfServing.body());
            assertEquals(JSON.readTree("{\"predictions\":[[2.5,3.0,4.5]]}"), JSON.readTree(tfServing.body()));
        }
    }
}
