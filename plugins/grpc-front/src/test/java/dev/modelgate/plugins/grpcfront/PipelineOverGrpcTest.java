package dev.modelgate.plugins.grpcfront;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.auth0.jwt.JWT;
import com.auth0.jwt.algorithms.Algorithm;
import dev.modelgate.kernel.testing.Await;
import dev.modelgate.plugins.kservev2.protobuf.inference.GRPCInferenceServiceGrpc;
import dev.modelgate.plugins.modelservice.api.ModelServiceGrpc;
import dev.modelgate.plugins.modelservice.api.PredictRequest;
import dev.modelgate.plugins.modelservice.api.PredictResponse;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A gRPC call passes the same middlewares as a REST call: authentication from its metadata, rate limits, request
 * ids; each refusal a status with its code in the details.
 */
class PipelineOverGrpcTest {

    private static final String SECRET = "a-test-secret-of-at-least-thirty-two-bytes";
    private static GrpcGateway gateway;
    private static Path accessLog;

    @BeforeAll
    static void start() throws Exception {
        accessLog = Files.createTempFile("modelgate-grpc-access-", ".log");
        gateway = GrpcGateway.start("""
                server:
                  address: 127.0.0.1
                middlewares:
                  - type: request-id
                  - type: access-log
                    output: %s
                    batch-size: 1
                backends:
                  demo:
                    type: onnx
                    model: classpath:models/demo.onnx
                routes:
                  - model: open
                    backend: demo
                  - model: secure
                    backend: demo
                    middlewares:
                      - type: jwt
                        algorithm: HS256
                        secret: %s
                  - model: keyed
                    backend: demo
                    middlewares:
                      - type: api-key
                        keys:
                          - name: demo-client
                            sha256: c4aa8e39316ae9bbd697d68ea8114f5e43c70870af8b059ef05ebe97bd1df0b5
                            roles: [predict]
                  - model: limited
                    backend: demo
                    middlewares:
                      - type: rate-limit
                        key: route
                        store: local
                        limits:
                          - algorithm: token-bucket
                            rate: 1
                            period: 1h
                            burst: 1
                  - model: rest-only
                    backend: demo
                    fronts: [kserve-v2]
                  - model: probed
                    backend: demo
                    timeout: 20s
                    middlewares:
                      - type: deadline-probe
                """.formatted(accessLog, SECRET));
    }

    @AfterAll
    static void stop() throws Exception {
        gateway.close();
    }

    private static GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub stub(String... metadata) {
        return GRPCInferenceServiceGrpc.newBlockingStub(gateway.channel).withDeadlineAfter(30, TimeUnit.SECONDS)
                .withInterceptors(GrpcGateway.metadata(metadata));
    }

    private static StatusRuntimeException refused(String model, String... metadata) {
        return assertThrows(StatusRuntimeException.class,
                () -> stub(metadata).modelInfer(KServeGrpcTest.inferRequest(model, KServeGrpcTest.SETOSA)));
    }

    @Test
    void aJwtRouteRefusesACallWithoutATokenWithUnauthenticatedAnd10101() {
        StatusRuntimeException e = refused("secure");
        assertEquals(Status.Code.UNAUTHENTICATED, e.getStatus().getCode());
        assertEquals(10101, GrpcGateway.code(e));
    }

    @Test
    void aJwtRouteServesACallWithATokenInTheAuthorizationMetadata() {
        String token = JWT.create().withSubject("alice").withExpiresAt(Instant.now().plusSeconds(300))
                .sign(Algorithm.HMAC256(SECRET));
        assertArrayEquals(new long[] {0}, KServeGrpcTest.labels(stub("authorization", "Bearer " + token)
                .modelInfer(KServeGrpcTest.inferRequest("secure", KServeGrpcTest.SETOSA))));
    }

    @Test
    void anApiKeyRouteReadsTheXApiKeyMetadata() {
        assertEquals(Status.Code.UNAUTHENTICATED, refused("keyed", "x-api-key", "wrong").getStatus().getCode());
        assertArrayEquals(new long[] {0}, KServeGrpcTest.labels(stub("x-api-key", "modelgate-demo-key-2026")
                .modelInfer(KServeGrpcTest.inferRequest("keyed", KServeGrpcTest.SETOSA))));
    }

    @Test
    void aRateLimitedCallIsResourceExhaustedWith30101() {
        StatusRuntimeException e = null;
        for (int i = 0; i < 3 && e == null; i++) {
            try {
                stub().modelInfer(KServeGrpcTest.inferRequest("limited", KServeGrpcTest.SETOSA));
            } catch (StatusRuntimeException refused) {
                e = refused;
            }
        }
        assertNotNull(e, "the bucket of one never ran out");
        assertEquals(Status.Code.RESOURCE_EXHAUSTED, e.getStatus().getCode());
        assertEquals(30101, GrpcGateway.code(e));
        assertNotNull(e.getTrailers().get(Metadata.Key.of("retry-after", Metadata.ASCII_STRING_MARSHALLER)));
    }

    @Test
    void onAStreamEachMessageCountsForTheRateLimitAndARefusalDoesNotEndIt() throws Exception {
        Collector<PredictRequest, PredictResponse> stream = new Collector<>();
        StreamObserver<PredictRequest> requests = ModelServiceGrpc.newStub(gateway.channel)
                .withDeadlineAfter(30, TimeUnit.SECONDS).streamPredict(stream);
        for (int i = 0; i < 3; i++) {
            requests.onNext(ModelServiceGrpcTest.request("limited", Integer.toString(i), KServeGrpcTest.SETOSA));
        }
        requests.onCompleted();
        List<PredictResponse> answers = stream.all();
        assertEquals(3, answers.size());
        assertEquals(30101, answers.get(2).getError().getCode());
        assertEquals("RESOURCE_EXHAUSTED", answers.get(2).getError().getStatus());
    }

    @Test
    void aStreamWhoseCredentialsFailEndsUnauthenticatedWith10101() throws Exception {
        Collector<PredictRequest, PredictResponse> stream = new Collector<>();
        StreamObserver<PredictRequest> requests = ModelServiceGrpc.newStub(gateway.channel)
                .withDeadlineAfter(30, TimeUnit.SECONDS).streamPredict(stream);
        requests.onNext(ModelServiceGrpcTest.request("secure", "1", KServeGrpcTest.SETOSA));
        Exception e = assertThrows(Exception.class, () -> stream.ended.get(30, TimeUnit.SECONDS));
        StatusRuntimeException status = (StatusRuntimeException) e.getCause();
        assertEquals(Status.Code.UNAUTHENTICATED, status.getStatus().getCode());
        assertEquals(10101, GrpcGateway.code(status));
        assertTrue(stream.answers.isEmpty());
    }

    @Test
    void theRequestIdIsPassedOnOrMadeAndReturnedInTheHeaders() {
        AtomicReference<Metadata> headers = new AtomicReference<>();
        AtomicReference<Metadata> trailers = new AtomicReference<>();
        Metadata.Key<String> requestId = Metadata.Key.of("x-request-id", Metadata.ASCII_STRING_MARSHALLER);
        stub("x-request-id", "abc-123").withInterceptors(MetadataUtils.newCaptureMetadataInterceptor(headers, trailers))
                .modelInfer(KServeGrpcTest.inferRequest("open", KServeGrpcTest.SETOSA));
        assertEquals("abc-123", headers.get().get(requestId));
        stub().withInterceptors(MetadataUtils.newCaptureMetadataInterceptor(headers, trailers))
                .modelInfer(KServeGrpcTest.inferRequest("open", KServeGrpcTest.SETOSA));
        assertNotNull(headers.get().get(requestId));
    }

    @Test
    void theGrpcTimeoutBecomesTheDeadlineWhenItComesBeforeTheRoutesTimeout() {
        assertTrue(deadlineLeft(5) <= 5_000);
        long routeBound = deadlineLeft(60);
        assertTrue(routeBound > 5_000 && routeBound <= 20_000, routeBound + " ms");
    }

    /** The milliseconds a call with a {@code grpc-timeout} of {@code seconds} had left in the pipeline. */
    private static long deadlineLeft(int seconds) {
        AtomicReference<Metadata> headers = new AtomicReference<>();
        GRPCInferenceServiceGrpc.newBlockingStub(gateway.channel).withDeadlineAfter(seconds, TimeUnit.SECONDS)
                .withInterceptors(MetadataUtils.newCaptureMetadataInterceptor(headers, new AtomicReference<>()))
                .modelInfer(KServeGrpcTest.inferRequest("probed", KServeGrpcTest.SETOSA));
        return Long.parseLong(headers.get().get(Metadata.Key.of("x-deadline-ms", Metadata.ASCII_STRING_MARSHALLER)));
    }

    @Test
    void everyCallHasAnAccessLogLineNamingItsMethod() throws Exception {
        stub("x-request-id", "logged-1").modelInfer(KServeGrpcTest.inferRequest("open", KServeGrpcTest.SETOSA));
        Await.lines(accessLog, lines -> lines.stream().anyMatch(line -> line.contains("\"logged-1\"")
                && line.contains("\"path\":\"/inference.GRPCInferenceService/ModelInfer\"")));
    }

    @Test
    void aRouteThatListsOtherFrontsIsNotServedOverGrpc() {
        StatusRuntimeException e = refused("rest-only");
        assertEquals(Status.Code.NOT_FOUND, e.getStatus().getCode());
        assertEquals(40010, GrpcGateway.code(e));
    }
}
