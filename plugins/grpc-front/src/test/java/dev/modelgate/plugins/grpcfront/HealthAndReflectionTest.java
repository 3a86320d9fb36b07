package dev.modelgate.plugins.grpcfront;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.reflection.v1.ServerReflectionGrpc;
import io.grpc.reflection.v1.ServerReflectionRequest;
import io.grpc.reflection.v1.ServerReflectionResponse;
import io.grpc.reflection.v1.ServiceResponse;
import io.grpc.stub.StreamObserver;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** grpc.health.v1.Health per gateway and per model, and server reflection, as grpcurl and Kubernetes use them. */
class HealthAndReflectionTest {

    private static GrpcGateway gateway;

    @BeforeAll
    static void start() throws Exception {
        gateway = GrpcGateway.start(GrpcGateway.DEMO);
    }

    @AfterAll
    static void stop() throws Exception {
        gateway.close();
    }

    private static ServingStatus health(String service) {
        return HealthGrpc.newBlockingStub(gateway.channel).withDeadlineAfter(30, TimeUnit.SECONDS)
                .check(HealthCheckRequest.newBuilder().setService(service).build()).getStatus();
    }

    @Test
    void theGatewayAndEachModelAreServingAndAnUnknownServiceIsNotFound() {
        assertEquals(ServingStatus.SERVING, health(""));
        assertEquals(ServingStatus.SERVING, health("demo"));
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> health("nope"));
        assertEquals(Status.Code.NOT_FOUND, e.getStatus().getCode());
    }

    @Test
    void reflectionListsTheServicesAndDescribesThemFromTheirProtoFiles() throws Exception {
        List<String> services = reflect(ServerReflectionRequest.newBuilder().setListServices("").build())
                .getListServicesResponse().getServiceList().stream().map(ServiceResponse::getName).toList();
        assertTrue(services.containsAll(List.of("inference.GRPCInferenceService", "ModelService",
                "grpc.health.v1.Health")), services.toString());
        ServerReflectionResponse file = reflect(ServerReflectionRequest.newBuilder()
                .setFileContainingSymbol("inference.GRPCInferenceService").build());
        assertFalse(file.getFileDescriptorResponse().getFileDescriptorProtoList().isEmpty());
        ServerReflectionResponse modelService = reflect(ServerReflectionRequest.newBuilder()
                .setFileContainingSymbol("ModelService").build());
        assertFalse(modelService.getFileDescriptorResponse().getFileDescriptorProtoList().isEmpty());
    }

    private static ServerReflectionResponse reflect(ServerReflectionRequest request) throws Exception {
        Collector<ServerReflectionRequest, ServerReflectionResponse> answers = new Collector<>();
        StreamObserver<ServerReflectionRequest> requests = ServerReflectionGrpc.newStub(gateway.channel)
                .withDeadlineAfter(30, TimeUnit.SECONDS).serverReflectionInfo(answers);
        requests.onNext(request);
        ServerReflectionResponse response = answers.next();
        requests.onCompleted();
        return response;
    }
}
