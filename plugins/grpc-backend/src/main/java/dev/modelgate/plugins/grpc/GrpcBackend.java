package dev.modelgate.plugins.grpc;

import dev.modelgate.plugins.kservev2.protobuf.inference.GRPCInferenceServiceGrpc;
import dev.modelgate.plugins.kservev2.protobuf.inference.ModelMetadataRequest;
import dev.modelgate.plugins.kservev2.protobuf.inference.ModelReadyRequest;
import dev.modelgate.plugins.kservev2.protobuf.inference.ServerReadyRequest;
import dev.modelgate.plugins.modelservice.api.ModelServiceGrpc;
import dev.modelgate.plugins.pool.CallTime;
import dev.modelgate.plugins.pool.Instance;
import dev.modelgate.plugins.pool.InstanceOutcomes;
import dev.modelgate.plugins.pool.InstancePool;
import dev.modelgate.plugins.pool.MetadataCache;
import dev.modelgate.spi.BackendException;
import dev.modelgate.spi.CoreErrors;
import dev.modelgate.spi.Exchange;
import dev.modelgate.spi.Metrics;
import dev.modelgate.spi.RejectionException;
import dev.modelgate.spi.inference.InferenceBackend;
import dev.modelgate.spi.inference.InferenceCodec;
import dev.modelgate.spi.inference.InferenceRequest;
import dev.modelgate.spi.inference.InferenceResponse;
import dev.modelgate.spi.inference.ModelMetadata;
import dev.modelgate.spi.inference.Payload;
import dev.modelgate.spi.inference.StreamSession;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientInterceptors;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.MetadataUtils;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * The {@code grpc} backend: runs inferences on model servers reached over gRPC, one of the instances the
 * {@link InstancePool} picks, over that instance's long-lived channel. Requests and answers travel as the bytes of
 * the protocol's Protobuf codec (no second copy of the mapping to the tensor model): {@code ModelInfer} for
 * {@code kserve-v2}, {@code Predict} for {@code model-service}.
 *
 * <p>Each call carries a deadline: {@code request-timeout}, or the request's nearer deadline, sent on as
 * {@code grpc-timeout}. The server's status becomes the gateway's code: UNAVAILABLE 40003 (retryable),
 * DEADLINE_EXCEEDED 40004 (40008 when the request's own deadline cut the call), INVALID_ARGUMENT 40006, NOT_FOUND
 * 40027, anything else 40005. UNAVAILABLE, a timeout and INTERNAL, UNKNOWN or DATA_LOSS count against the instance
 * for ejection; the others say the instance works.
 *
 * <p>Health checks ask {@code ServerReady} (and {@code ModelReady} of {@code model-name} when set) of a KServe v2
 * server, {@code grpc.health.v1.Health/Check} of a ModelService server; a server without the health service that
 * answers UNIMPLEMENTED passes, as it answered.
 *
 * <p>A message of a client's {@code StreamPredict} (a {@link StreamSession} is current) goes to a ModelService server
 * on one {@code StreamPredict} call kept for the client's whole stream: see {@link BackendStream}.
 *
 * <p>Thread-safety: called concurrently from many virtual threads; a call blocks its thread until its answer.
 */
final class GrpcBackend implements InferenceBackend {

    /** Messages pass as the codec's bytes: the channel neither parses nor builds them. */
    private static final MethodDescriptor.Marshaller<byte[]> BYTES = new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(byte[] value) {
            return new ByteArrayInputStream(value);
        }

        @Override
        public byte[] parse(InputStream stream) {
            try (stream) {
                return stream.readAllBytes();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    };

    private static final MethodDescriptor<byte[], byte[]> STREAM_PREDICT = bytesMethod(
            ModelServiceGrpc.getStreamPredictMethod().getFullMethodName(), MethodDescriptor.MethodType.BIDI_STREAMING);
    private static final MethodDescriptor<byte[], byte[]> KSERVE_METADATA =
            bytesMethod(GRPCInferenceServiceGrpc.getModelMetadataMethod().getFullMethodName());

    private final GrpcBackendSettings settings;
    private final Channels channels;
    private final InferenceCodec codec;
    private final MethodDescriptor<byte[], byte[]> infer;
    private final InstancePool instances;
    private final InstanceOutcomes outcomes;
    private final MetadataCache metadata;

    /**
     * Takes ownership of {@code channels} and starts health checks when configured.
     *
     * @param codec the protocol's Protobuf codec
     * @param name the backend's configured name, for metric labels and logs
     */
    GrpcBackend(GrpcBackendSettings settings, Channels channels, InferenceCodec codec, String name, Metrics metrics,
            System.Logger log, LongSupplier nanoTime) {
        this.settings = settings;
        this.channels = channels;
        this.codec = codec;
        this.infer = bytesMethod(settings.protocol().inferMethod());
        this.instances = new InstancePool(settings.pool(), name, this::probe, metrics, log, nanoTime);
        this.outcomes = instances.outcomes();
        this.metadata = new MetadataCache(nanoTime);
    }

    private static MethodDescriptor<byte[], byte[]> bytesMethod(String fullName) {
        return bytesMethod(fullName, MethodDescriptor.MethodType.UNARY);
    }

    private static MethodDescriptor<byte[], byte[]> bytesMethod(String fullName, MethodDescriptor.MethodType type) {
        return MethodDescriptor.<byte[], byte[]>newBuilder()
                .setType(type)
                .setFullMethodName(fullName)
                .setRequestMarshaller(BYTES)
                .setResponseMarshaller(BYTES)
                .build();
    }

    @Override
    public InferenceResponse infer(InferenceRequest request, Exchange exchange) throws BackendException {
        InferenceRequest outgoing = settings.modelName() == null ? request
                : new InferenceRequest(settings.modelName(), request.version(), request.id(), request.inputs(),
                        request.outputs(), request.parameters());
        byte[] body = codec.encodeRequest(outgoing).body();
        StreamSession stream = settings.protocol() == GrpcProtocol.MODEL_SERVICE ? StreamSession.current() : null;
        byte[] answer = stream == null ? call(exchange, infer, body) : streamed(stream, exchange, body);
        InferenceResponse response = codec.decodeResponse(new Payload(codec.mediaType(), answer), request);
        return settings.modelName() == null ? response
                : new InferenceResponse(request.model(), response.version(), response.id(), response.outputs(),
                        response.parameters());
    }

    /**
     * A KServe v2 server's {@code ModelMetadata}, asked at most every 30 seconds; {@code null} for a ModelService
     * server, whose service has no metadata call.
     */
    @Override
    public ModelMetadata metadata(String model, Exchange exchange) throws BackendException {
        if (settings.protocol() != GrpcProtocol.KSERVE_V2) {
            return null;
        }
        return metadata.get(model, name -> {
            byte[] asked = ModelMetadataRequest.newBuilder().setName(backendModel(name)).build().toByteArray();
            byte[] answer = call(exchange, KSERVE_METADATA, asked);
            return codec.decodeMetadata(new Payload(codec.mediaType(), answer), name).withName(name);
        });
    }

    private String backendModel(String model) {
        return settings.modelName() != null ? settings.modelName() : model;
    }

    /** One call to an instance the pool picks, within the call's time; the instance's outcome is recorded. */
    private byte[] call(Exchange exchange, MethodDescriptor<byte[], byte[]> method, byte[] body)
            throws BackendException {
        CallTime time = CallTime.of(exchange, settings.requestTimeout());
        Instance instance = instances.choose(exchange);
        outcomes.started(instance);
        try {
            byte[] answer = ClientCalls.blockingUnaryCall(channel(instance, exchange), method,
                    CallOptions.DEFAULT.withDeadlineAfter(time.waitNanos(), TimeUnit.NANOSECONDS), body);
            outcomes.succeeded(instance);
            return answer;
        } catch (StatusRuntimeException e) {
            throw failure(e.getStatus(), instance, time);
        } finally {
            outcomes.ended(instance);
        }
    }

    /**
     * One message of a client's stream, on the backend stream the session keeps ({@code StreamPredict} to the instance
     * the first message went to): the client's stream stays one stream to the server. A message that fails ends the
     * backend stream; the next one opens another.
     */
    private byte[] streamed(StreamSession session, Exchange exchange, byte[] body) throws BackendException {
        CallTime time = CallTime.of(exchange, settings.requestTimeout());
        BackendStream stream = session.keep(this, () -> {
            Instance instance = instances.choose(exchange);
            return new BackendStream(channel(instance, exchange), STREAM_PREDICT, instance, outcomes);
        });
        try {
            byte[] answer = stream.exchange(body, time.waitNanos());
            outcomes.succeeded(stream.instance());
            return answer;
        } catch (BackendStream.Failure e) {
            session.drop(this);
            throw failure(e.status(), stream.instance(), time);
        } catch (InterruptedException e) {
            session.drop(this);
            Thread.currentThread().interrupt();
            throw new BackendException(BackendException.Kind.UNAVAILABLE, "interrupted while waiting for the stream",
                    e);
        }
    }

    /** The instance's channel, passing the request headers of {@code forward-headers} on as metadata. */
    private Channel channel(Instance instance, Exchange exchange) {
        ManagedChannel channel = channels.of(instance);
        Metadata forwarded = null;
        for (String header : settings.forwardHeaders()) {
            for (String value : exchange.requestHeaders().all(header)) {
                if (forwarded == null) {
                    forwarded = new Metadata();
                }
                forwarded.put(Metadata.Key.of(header, Metadata.ASCII_STRING_MARSHALLER), value);
            }
        }
        return forwarded == null ? channel
                : ClientInterceptors.intercept(channel, MetadataUtils.newAttachHeadersInterceptor(forwarded));
    }

    /**
     * What the client is told of a failed call, counted against the instance when it is at fault.
     *
     * @throws RejectionException for a status that is the gateway's code rather than a backend failure
     */
    private BackendException failure(Status status, Instance instance, CallTime time) {
        Status.Code code = status.getCode();
        if (code == Status.Code.DEADLINE_EXCEEDED && time.cutByDeadline()) {
            // The client's own deadline ran out, not the instance's time: nothing to hold against it.
            throw CallTime.deadlineExceeded();
        }
        boolean instanceAtFault = switch (code) {
            case UNAVAILABLE, DEADLINE_EXCEEDED, INTERNAL, UNKNOWN, DATA_LOSS -> true;
            default -> false;
        };
        if (instanceAtFault) {
            outcomes.failed(instance);
        } else {
            outcomes.succeeded(instance);
        }
        String detail = "backend answered " + code
                + (status.getDescription() == null ? "" : ": " + status.getDescription());
        return switch (code) {
            case UNAVAILABLE -> new BackendException(BackendException.Kind.UNAVAILABLE, detail, status.getCause());
            case DEADLINE_EXCEEDED -> new BackendException(BackendException.Kind.TIMEOUT, "no response in time", null);
            case INVALID_ARGUMENT -> throw new RejectionException(CoreErrors.BACKEND_REJECTED, detail);
            case NOT_FOUND -> throw new RejectionException(GrpcBackendProvider.MODEL_NOT_FOUND, detail);
            default -> throw new RejectionException(CoreErrors.BACKEND_ERROR, detail);
        };
    }

    /** A health check of one instance; see the class comment for what it asks. */
    private Boolean probe(Instance instance) {
        ManagedChannel channel = channels.of(instance);
        long timeoutNanos = settings.pool().healthCheck().timeout().toNanos();
        try {
            if (settings.protocol() == GrpcProtocol.MODEL_SERVICE) {
                return HealthGrpc.newBlockingStub(channel)
                        .withDeadlineAfter(timeoutNanos, TimeUnit.NANOSECONDS)
                        .check(HealthCheckRequest.getDefaultInstance())
                        .getStatus() == HealthCheckResponse.ServingStatus.SERVING;
            }
            GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub server =
                    GRPCInferenceServiceGrpc.newBlockingStub(channel)
                            .withDeadlineAfter(timeoutNanos, TimeUnit.NANOSECONDS);
            return server.serverReady(ServerReadyRequest.getDefaultInstance()).getReady()
                    && (settings.modelName() == null || server.modelReady(
                            ModelReadyRequest.newBuilder().setName(settings.modelName()).build()).getReady());
        } catch (StatusRuntimeException e) {
            return settings.protocol() == GrpcProtocol.MODEL_SERVICE
                    && e.getStatus().getCode() == Status.Code.UNIMPLEMENTED;
        }
    }

    /** The longest one call may take, connecting included: the call's deadline covers both. */
    @Override
    public Optional<Duration> callTimeout() {
        return Optional.of(settings.requestTimeout());
    }

    /** Ready while the instances are: see {@link InstancePool#ready}. */
    @Override
    public boolean ready() {
        return instances.ready();
    }

    /** Stops health checks, then closes the channels. */
    @Override
    public void close() {
        instances.close();
        channels.close();
    }
}
