package dev.modelgate.plugins.opentelemetry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.modelgate.kernel.testing.Await;
import dev.modelgate.kernel.testing.RunningGateway;
import dev.modelgate.plugins.kservev2.protobuf.inference.GRPCInferenceServiceGrpc;
import dev.modelgate.plugins.kservev2.protobuf.inference.ModelInferRequest;
import dev.modelgate.plugins.opentelemetry.OtlpReceiver.Received;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** A call on the gRPC front is a span too, in the client's trace, with the protocol and the call's code. */
class OpenTelemetryGrpcTest {

    @Test
    void aGrpcCallIsASpanOfTheClientsTraceWithItsCode() throws Exception {
        String traceId = "5bf92f3577b34da6a3ce929d0e0e4736";
        try (OtlpReceiver receiver = OtlpReceiver.start();
                // A route whose backend is never reached: the call names another model.
                RunningGateway gateway = RunningGateway.startWithGrpc(OpenTelemetryTest.config(
                        OpenTelemetryTest.exportingTo(receiver.endpoint(), ""), "http://127.0.0.1:1/predict"))) {
            ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", gateway.grpcPort()).usePlaintext()
                    .build();
            try {
                Metadata metadata = new Metadata();
                metadata.put(Metadata.Key.of("traceparent", Metadata.ASCII_STRING_MARSHALLER),
                        "00-" + traceId + "-00f067aa0ba902b7-01");
                StatusRuntimeException refused = assertThrows(StatusRuntimeException.class, () ->
                        GRPCInferenceServiceGrpc.newBlockingStub(channel)
                                .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(metadata))
                                .withDeadlineAfter(30, TimeUnit.SECONDS)
                                .modelInfer(ModelInferRequest.newBuilder().setModelName("missing").build()));
                assertEquals(Status.Code.NOT_FOUND, refused.getStatus().getCode());
            } finally {
                channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            }

            Received span = Await.until("the call's span", Await.DEADLINE,
                    () -> receiver.spans().isEmpty() ? null : receiver.spans().getFirst(), () -> "none");
            assertEquals(traceId, span.traceId());
            assertEquals("00f067aa0ba902b7", span.parentSpanId());
            assertEquals("inference.GRPCInferenceService/ModelInfer", span.span().getName());
            assertEquals("grpc", span.attribute("modelgate.protocol").getStringValue());
            assertEquals("grpc", span.attribute("rpc.system").getStringValue());
            assertEquals("missing", span.attribute("modelgate.model").getStringValue());
            assertEquals(404, span.attribute("http.response.status_code").getIntValue());
            assertEquals(40001, span.attribute("modelgate.code").getIntValue());
        }
    }
}
