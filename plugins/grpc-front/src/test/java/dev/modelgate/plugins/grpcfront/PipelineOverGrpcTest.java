package dev.modelgate.plugins.grpcfront;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.auth0.jwt.JWT;
import com.auth0.jwt.algorithms.Algorithm;
import dev.modelgate.plugins.kservev2.protobuf.inference.GRPCInferenceServiceGrpc;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.MetadataUtils;
import java.time.Instant;
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

    @BeforeAll
    static void start() throws Exception {
        gateway = GrpcGateway.start("""
                server:
                  address: 127.0.0.1
                middlewares:
                  - type: request-id
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
                """.formatted(SECRET));
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
    void aRouteThatListsOtherFrontsIsNotServedOverGrpc() {
        StatusRuntimeException e = refused("rest-only");
        assertEquals(Status.Code.NOT_FOUND, e.getStatus().getCode());
        assertEquals(40010, GrpcGateway.code(e));
    }
}
