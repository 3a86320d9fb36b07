package dev.modelgate.plugins.grpcfront;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.modelgate.kernel.testing.SelfSignedCertificate;
import dev.modelgate.plugins.modelservice.api.ModelServiceGrpc;
import dev.modelgate.plugins.modelservice.api.PredictRequest;
import dev.modelgate.plugins.modelservice.api.PredictResponse;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * SIGTERM's drain on the gRPC listener: new calls are refused at once, open streams go on until their clients end
 * them or the shutdown timeout passes, then end UNAVAILABLE with 30001. And TLS from {@code server.tls}.
 */
class DrainAndTlsTest {

    /** An open StreamPredict call: send a request, take its answer. */
    private static final class OpenStream extends Collector<PredictRequest, PredictResponse> {
        final StreamObserver<PredictRequest> requests;

        OpenStream(ManagedChannel channel) {
            requests = ModelServiceGrpc.newStub(channel).withDeadlineAfter(60, TimeUnit.SECONDS).streamPredict(this);
        }

        void ask(String id) throws InterruptedException {
            requests.onNext(ModelServiceGrpcTest.request("demo", id, KServeGrpcTest.SETOSA));
            assertEquals(id, next().getId());
        }
    }

    /** Waits until a new call on a new connection is refused: the listener has stopped accepting. */
    private static void awaitRefusingNewCalls(int port) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (true) {
            ManagedChannel fresh = NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
            try {
                ModelServiceGrpc.newBlockingStub(fresh).withDeadlineAfter(10, TimeUnit.SECONDS)
                        .predict(ModelServiceGrpcTest.request("demo", "new", KServeGrpcTest.SETOSA));
            } catch (StatusRuntimeException e) {
                assertEquals(Status.Code.UNAVAILABLE, e.getStatus().getCode());
                return;
            } finally {
                fresh.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            }
            assertTrue(System.nanoTime() - deadline < 0, "new calls were still served while draining");
        }
    }

    @Test
    void anOpenStreamGoesOnWhileDrainingAndEndsWhenItsClientEndsIt() throws Exception {
        try (GrpcGateway gateway = GrpcGateway.start(GrpcGateway.DEMO)) {
            int port = gateway.gateway.grpcPort();
            OpenStream stream = new OpenStream(gateway.channel);
            stream.ask("before");
            Collector<HealthCheckRequest, HealthCheckResponse> health = new Collector<>();
            HealthGrpc.newStub(gateway.channel).withDeadlineAfter(60, TimeUnit.SECONDS)
                    .watch(HealthCheckRequest.newBuilder().setService("demo").build(), health);
            assertEquals(ServingStatus.SERVING, health.next().getStatus());
            CompletableFuture<Boolean> drained = CompletableFuture.supplyAsync(
                    () -> gateway.gateway.gateway().shutdown(Duration.ofSeconds(30)));
            awaitRefusingNewCalls(port);
            // Probes watching the gateway see it stop serving, and their watch ends: the drain waits for no probe.
            assertEquals(ServingStatus.NOT_SERVING, health.next().getStatus());
            health.ended.get(30, TimeUnit.SECONDS);
            stream.ask("during");
            stream.requests.onCompleted();
            stream.ended.get(30, TimeUnit.SECONDS);
            assertTrue(drained.get(30, TimeUnit.SECONDS), "the drain waited for nothing or gave up");
        }
    }

    @Test
    void aStreamStillOpenAtTheShutdownTimeoutEndsUnavailableWith30001() throws Exception {
        try (GrpcGateway gateway = GrpcGateway.start(GrpcGateway.DEMO)) {
            OpenStream stream = new OpenStream(gateway.channel);
            stream.ask("before");
            assertFalse(gateway.gateway.gateway().shutdown(Duration.ofMillis(200)));
            Exception e = assertThrows(Exception.class, () -> stream.ended.get(30, TimeUnit.SECONDS));
            StatusRuntimeException status = (StatusRuntimeException) e.getCause();
            assertEquals(Status.Code.UNAVAILABLE, status.getStatus().getCode());
            assertEquals(30001, GrpcGateway.code(status));
        }
    }

    @Test
    void theGrpcListenerServesTlsFromTheServerSettings() throws Exception {
        Path folder = Files.createTempDirectory("modelgate-grpc-tls-");
        SelfSignedCertificate certificate = SelfSignedCertificate.create(folder);
        try (GrpcGateway gateway = GrpcGateway.start(GrpcGateway.DEMO.replace("address: 127.0.0.1", """
                address: 127.0.0.1
                  tls:
                    cert-file: %s
                    key-file: %s""".formatted(certificate.certFile(), certificate.keyFile())))) {
            ManagedChannel tls = NettyChannelBuilder.forAddress("localhost", gateway.gateway.grpcPort())
                    .sslContext(GrpcSslContexts.forClient().trustManager(certificate.certFile().toFile()).build())
                    .build();
            try {
                PredictResponse answer = ModelServiceGrpc.newBlockingStub(tls).withDeadlineAfter(30, TimeUnit.SECONDS)
                        .predict(ModelServiceGrpcTest.request("demo", "tls", KServeGrpcTest.SETOSA));
                assertEquals("tls", answer.getId());
                // A client speaking in clear to the TLS port gets no answer.
                assertEquals(Status.Code.UNAVAILABLE, assertThrows(StatusRuntimeException.class,
                        () -> ModelServiceGrpc.newBlockingStub(gateway.channel).withDeadlineAfter(30, TimeUnit.SECONDS)
                                .predict(ModelServiceGrpcTest.request("demo", "x", KServeGrpcTest.SETOSA)))
                        .getStatus().getCode());
            } finally {
                tls.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            }
        }
    }
}
