package dev.modelgate.plugins.grpcfront;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.modelgate.kernel.Reloader;
import dev.modelgate.plugins.modelservice.api.ModelServiceGrpc;
import dev.modelgate.plugins.modelservice.api.PredictRequest;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The gRPC listener keeps running across a reload and serves the new configuration on its open channel. */
class GrpcReloadTest {

    private static final String IRIS_ROUTE = """
              - model: iris
                backend: demo
            """;

    private static ServingStatus health(GrpcGateway gateway, String service) {
        return HealthGrpc.newBlockingStub(gateway.channel).withDeadlineAfter(30, TimeUnit.SECONDS)
                .check(HealthCheckRequest.newBuilder().setService(service).build()).getStatus();
    }

    private static String predictedModel(GrpcGateway gateway, String model) {
        return ModelServiceGrpc.newBlockingStub(gateway.channel).withDeadlineAfter(30, TimeUnit.SECONDS)
                .predict(PredictRequest.newBuilder().setModel(model).addAllFeatures(List.of(6.3f, 3.3f, 6.0f, 2.5f))
                        .build()).getModel();
    }

    @Test
    void aReloadedRouteIsServedOverTheRunningListenerAndAFrontChangeNeedsARestart() throws Exception {
        try (GrpcGateway gateway = GrpcGateway.start(GrpcGateway.DEMO)) {
            StatusRuntimeException unknown = assertThrows(StatusRuntimeException.class, () -> health(gateway, "iris"));
            assertEquals(Status.Code.NOT_FOUND, unknown.getStatus().getCode());

            Reloader.Outcome added = gateway.gateway.reload(GrpcGateway.DEMO + IRIS_ROUTE);

            assertTrue(added.applied(), added.problems().toString());
            assertEquals(List.of(), added.restartNeeded());
            assertEquals(ServingStatus.SERVING, health(gateway, "iris"));
            assertEquals("iris", predictedModel(gateway, "iris"));

            Reloader.Outcome frontChanged = gateway.gateway.reload(GrpcGateway.DEMO.replace("default-model: demo",
                    "default-model: iris") + IRIS_ROUTE);
            assertTrue(frontChanged.applied(), frontChanged.problems().toString());
            assertEquals(List.of("fronts.grpc"), frontChanged.restartNeeded());
            assertEquals("demo", predictedModel(gateway, "demo"));
        }
    }
}
