package dev.modelgate.plugins.grpcfront;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.rpc.ErrorInfo;
import dev.modelgate.kernel.testing.RunningGateway;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.protobuf.StatusProto;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.MetadataUtils;
import java.util.concurrent.TimeUnit;

/** A real gateway with its gRPC front on a free loopback port, and a real gRPC channel to it. */
final class GrpcGateway implements AutoCloseable {

    /** The embedded demo model behind the gRPC front, with the default global middlewares. */
    static final String DEMO = """
            server:
              address: 127.0.0.1
            middlewares:
              - type: request-id
              - type: access-log
            backends:
              demo:
                type: onnx
                model: classpath:models/demo.onnx
            fronts:
              grpc:
                default-model: demo
            routes:
              - model: demo
                backend: demo
            """;

    final RunningGateway gateway;
    final ManagedChannel channel;

    private GrpcGateway(RunningGateway gateway) {
        this.gateway = gateway;
        this.channel = NettyChannelBuilder.forAddress("127.0.0.1", gateway.grpcPort()).usePlaintext()
                .maxInboundMessageSize(64 << 20).build();
    }

    static GrpcGateway start(String yaml) throws Exception {
        return new GrpcGateway(RunningGateway.startWithGrpc(yaml));
    }

    /** The ErrorInfo in the status details of {@code e}, checked for its domain and code metadata. */
    static ErrorInfo errorInfo(StatusRuntimeException e) {
        com.google.rpc.Status status = StatusProto.fromThrowable(e);
        if (status == null || status.getDetailsCount() != 1) {
            throw new AssertionError("no google.rpc.Status details in " + e);
        }
        try {
            ErrorInfo info = status.getDetails(0).unpack(ErrorInfo.class);
            if (!info.getDomain().equals("modelgate.dev") || !info.getReason().equals(info.getMetadataOrThrow("code"))
                    || status.getCode() != e.getStatus().getCode().value()) {
                throw new AssertionError("inconsistent details " + status + " in " + e);
            }
            return info;
        } catch (InvalidProtocolBufferException e2) {
            throw new AssertionError(e2);
        }
    }

    /** The five-digit code in the details of {@code e}. */
    static int code(StatusRuntimeException e) {
        return Integer.parseInt(errorInfo(e).getReason());
    }

    /** A unary call of {@code fullMethodName} with {@code message} as its bytes, as a client with other stubs. */
    byte[] rawUnary(String fullMethodName, byte[] message) {
        return ClientCalls.blockingUnaryCall(channel, RawMethods.unknown(fullMethodName),
                CallOptions.DEFAULT.withDeadlineAfter(30, TimeUnit.SECONDS), message);
    }

    /** Metadata of name, value pairs, for {@code withInterceptors}. */
    static io.grpc.ClientInterceptor metadata(String... nameValues) {
        Metadata metadata = new Metadata();
        for (int i = 0; i + 1 < nameValues.length; i += 2) {
            metadata.put(Metadata.Key.of(nameValues[i], Metadata.ASCII_STRING_MARSHALLER), nameValues[i + 1]);
        }
        return MetadataUtils.newAttachHeadersInterceptor(metadata);
    }

    @Override
    public void close() throws Exception {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        gateway.close();
    }
}
