package dev.modelgate.plugins.grpcfront;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.modelgate.kernel.Reloader;
import dev.modelgate.kernel.testing.SelfSignedCertificate;
import dev.modelgate.plugins.modelservice.api.ModelServiceGrpc;
import dev.modelgate.plugins.modelservice.api.PredictRequest;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

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

    @TempDir
    Path folder;

    /** A ModelService prediction over a new TLS channel whose client trusts {@code trusted} alone. */
    private static String predictOverTls(GrpcGateway gateway, SelfSignedCertificate trusted) throws Exception {
        ManagedChannel tls = NettyChannelBuilder.forAddress("localhost", gateway.gateway.grpcPort())
                .sslContext(GrpcSslContexts.forClient().trustManager(trusted.certFile().toFile()).build()).build();
        try {
            return ModelServiceGrpc.newBlockingStub(tls).withDeadlineAfter(30, TimeUnit.SECONDS)
                    .predict(PredictRequest.newBuilder().setModel("demo")
                            .addAllFeatures(List.of(6.3f, 3.3f, 6.0f, 2.5f)).build()).getModel();
        } finally {
            tls.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    @Test
    void aReloadRotatesTheGrpcListenersCertificate() throws Exception {
        SelfSignedCertificate first = SelfSignedCertificate.create(Files.createDirectory(folder.resolve("first")));
        SelfSignedCertificate second = SelfSignedCertificate.create(Files.createDirectory(folder.resolve("second")));
        Path cert = Files.copy(first.certFile(), folder.resolve("cert.pem"));
        Path key = Files.copy(first.keyFile(), folder.resolve("key.pem"));
        String config = GrpcGateway.DEMO.replace("address: 127.0.0.1", """
                address: 127.0.0.1
                  tls:
                    cert-file: %s
                    key-file: %s""".formatted(cert, key));
        try (GrpcGateway gateway = GrpcGateway.start(config)) {
            assertEquals("demo", predictOverTls(gateway, first));

            Files.copy(second.certFile(), cert, StandardCopyOption.REPLACE_EXISTING);
            Files.copy(second.keyFile(), key, StandardCopyOption.REPLACE_EXISTING);
            Reloader.Outcome rotated = gateway.gateway.reload(config);

            assertTrue(rotated.applied(), rotated.problems().toString());
            assertEquals(List.of(), rotated.restartNeeded());
            assertEquals("demo", predictOverTls(gateway, second));
            StatusRuntimeException stale = assertThrows(StatusRuntimeException.class,
                    () -> predictOverTls(gateway, first));
            assertEquals(Status.Code.UNAVAILABLE, stale.getStatus().getCode());
        }
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
