package dev.modelgate.plugins.grpc;

import com.google.protobuf.ByteString;
import dev.modelgate.plugins.kservev2.protobuf.inference.GRPCInferenceServiceGrpc;
import dev.modelgate.plugins.kservev2.protobuf.inference.ModelInferRequest;
import dev.modelgate.plugins.kservev2.protobuf.inference.ModelInferResponse;
import dev.modelgate.plugins.kservev2.protobuf.inference.ModelMetadataRequest;
import dev.modelgate.plugins.kservev2.protobuf.inference.ModelMetadataResponse;
import dev.modelgate.plugins.kservev2.protobuf.inference.ModelReadyRequest;
import dev.modelgate.plugins.kservev2.protobuf.inference.ModelReadyResponse;
import dev.modelgate.plugins.kservev2.protobuf.inference.ServerReadyRequest;
import dev.modelgate.plugins.kservev2.protobuf.inference.ServerReadyResponse;
import dev.modelgate.plugins.modelservice.api.ModelServiceGrpc;
import dev.modelgate.plugins.modelservice.api.PredictRequest;
import dev.modelgate.plugins.modelservice.api.PredictResponse;
import io.grpc.InsecureServerCredentials;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerCredentials;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Set;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A real gRPC model server on a free loopback port, the test stand-in for Triton and for a server written to the seed
 * article's .proto. Over KServe v2: {@code double} (FP32 x to y = 2x, at most 3 values), {@code slow} (never answers),
 * {@code broken} (INTERNAL); any other model is NOT_FOUND. Over ModelService: {@code half} (y = x / 2 + 2 for each
 * feature). It serves grpc.health.v1 too, and can be made unready or unavailable.
 */
final class ModelServer implements AutoCloseable {

    private static final Metadata.Key<String> REQUEST_ID =
            Metadata.Key.of("x-request-id", Metadata.ASCII_STRING_MARSHALLER);

    /** The models of the KServe v2 service, all of FP32 input x and output y. */
    private static final Set<String> KSERVE_MODELS = Set.of("double", "slow", "broken");

    final AtomicBoolean ready = new AtomicBoolean(true);
    final AtomicBoolean unavailable = new AtomicBoolean(false);
    final AtomicInteger inferences = new AtomicInteger();
    /** StreamPredict calls opened, ended (a permit each, by either side), and the messages they carried. */
    final AtomicInteger streams = new AtomicInteger();
    final Semaphore endedStreams = new Semaphore(0);
    final AtomicInteger streamedMessages = new AtomicInteger();
    final AtomicReference<String> lastRequestId = new AtomicReference<>();
    private final HealthStatusManager health = new HealthStatusManager();
    private final Server server;

    private final String scheme;

    private ModelServer(ServerCredentials credentials) throws IOException {
        scheme = credentials instanceof InsecureServerCredentials ? "grpc" : "grpcs";
        ServerInterceptor requestIds = new ServerInterceptor() {
            @Override
            public <Q, A> ServerCall.Listener<Q> interceptCall(ServerCall<Q, A> call, Metadata headers,
                    ServerCallHandler<Q, A> next) {
                lastRequestId.set(headers.get(REQUEST_ID));
                return next.startCall(call, headers);
            }
        };
        server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0), credentials)
                .addService(ServerInterceptors.intercept(new KServe(), requestIds))
                .addService(ServerInterceptors.intercept(new Article(), requestIds))
                .addService(health.getHealthService())
                .build()
                .start();
    }

    static ModelServer start() throws IOException {
        return new ModelServer(InsecureServerCredentials.create());
    }

    /** A server over TLS with {@code credentials}. */
    static ModelServer start(ServerCredentials credentials) throws IOException {
        return new ModelServer(credentials);
    }

    /** {@code grpc://127.0.0.1:port}, or {@code grpcs://} over TLS. */
    String url() {
        return scheme + "://127.0.0.1:" + server.getPort();
    }

    /**
     * Two grpc backends on this server, as YAML under {@code backends:} (two spaces in): {@code triton} speaking
     * KServe v2 and {@code article} speaking ModelService.
     */
    String backends() {
        return """
                triton:
                  type: grpc
                  protocol: kserve-v2
                  url: %1$s
                article:
                  type: grpc
                  protocol: model-service
                  url: %1$s
                """.formatted(url()).indent(2);
    }

    /** What grpc.health.v1 says of the whole server. */
    void serving(boolean serving) {
        health.setStatus("", serving ? ServingStatus.SERVING : ServingStatus.NOT_SERVING);
    }

    @Override
    public void close() throws InterruptedException {
        server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }

    /** Counts an inference; false, with the call failed UNAVAILABLE, while the server plays unavailable. */
    private boolean admit(StreamObserver<?> answer) {
        inferences.incrementAndGet();
        if (unavailable.get()) {
            answer.onError(Status.UNAVAILABLE.withDescription("the model server is overloaded").asException());
            return false;
        }
        return true;
    }

    private final class KServe extends GRPCInferenceServiceGrpc.GRPCInferenceServiceImplBase {

        @Override
        public void serverReady(ServerReadyRequest request, StreamObserver<ServerReadyResponse> answer) {
            answer.onNext(ServerReadyResponse.newBuilder().setReady(ready.get()).build());
            answer.onCompleted();
        }

        @Override
        public void modelReady(ModelReadyRequest request, StreamObserver<ModelReadyResponse> answer) {
            answer.onNext(ModelReadyResponse.newBuilder()
                    .setReady(ready.get() && KSERVE_MODELS.contains(request.getName())).build());
            answer.onCompleted();
        }

        @Override
        public void modelMetadata(ModelMetadataRequest request, StreamObserver<ModelMetadataResponse> answer) {
            if (!KSERVE_MODELS.contains(request.getName())) {
                answer.onError(Status.NOT_FOUND.withDescription("no model " + request.getName()).asException());
                return;
            }
            ModelMetadataResponse.TensorMetadata x = ModelMetadataResponse.TensorMetadata.newBuilder()
                    .setName("x").setDatatype("FP32").addShape(-1).build();
            answer.onNext(ModelMetadataResponse.newBuilder().setName(request.getName()).addVersions("1")
                    .setPlatform("onnxruntime_onnx").addInputs(x).addOutputs(x.toBuilder().setName("y")).build());
            answer.onCompleted();
        }

        @Override
        public void modelInfer(ModelInferRequest request, StreamObserver<ModelInferResponse> answer) {
            if (!admit(answer)) {
                return;
            }
            switch (request.getModelName()) {
                case "slow" -> {
                    // Never answers: the caller's deadline ends the call.
                }
                case "broken" -> answer.onError(Status.INTERNAL.withDescription("the model crashed").asException());
                case "double" -> infer(request, answer);
                default -> answer.onError(Status.NOT_FOUND
                        .withDescription("Request for unknown model: '" + request.getModelName() + "'")
                        .asException());
            }
        }

        private void infer(ModelInferRequest request, StreamObserver<ModelInferResponse> answer) {
            ModelInferRequest.InferInputTensor x = request.getInputs(0);
            FloatBuffer values = request.getRawInputContentsCount() > 0
                    ? request.getRawInputContents(0).asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN)
                            .asFloatBuffer()
                    : FloatBuffer.wrap(toArray(x));
            if (!x.getName().equals("x") || !x.getDatatype().equals("FP32") || values.remaining() > 3) {
                answer.onError(Status.INVALID_ARGUMENT.withDescription("expected FP32 input x of at most 3 values")
                        .asException());
                return;
            }
            ByteBuffer y = ByteBuffer.allocate(values.remaining() * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
            while (values.hasRemaining()) {
                y.putFloat(values.get() * 2);
            }
            answer.onNext(ModelInferResponse.newBuilder().setModelName("double").setModelVersion("1")
                    .setId(request.getId())
                    .addOutputs(ModelInferResponse.InferOutputTensor.newBuilder().setName("y").setDatatype("FP32")
                            .addAllShape(x.getShapeList()))
                    .addRawOutputContents(ByteString.copyFrom(y.flip()))
                    .build());
            answer.onCompleted();
        }

        private static float[] toArray(ModelInferRequest.InferInputTensor x) {
            float[] values = new float[x.getContents().getFp32ContentsCount()];
            for (int i = 0; i < values.length; i++) {
                values[i] = x.getContents().getFp32Contents(i);
            }
            return values;
        }
    }

    private final class Article extends ModelServiceGrpc.ModelServiceImplBase {

        @Override
        public void predict(PredictRequest request, StreamObserver<PredictResponse> answer) {
            if (!admit(answer)) {
                return;
            }
            if (!request.getModel().equals("half")) {
                answer.onError(Status.NOT_FOUND.withDescription("no model " + request.getModel()).asException());
                return;
            }
            answer.onNext(half(request));
            answer.onCompleted();
        }

        /** Each message answered in order, as it comes. */
        @Override
        public StreamObserver<PredictRequest> streamPredict(StreamObserver<PredictResponse> answers) {
            streams.incrementAndGet();
            return new StreamObserver<>() {
                @Override
                public void onNext(PredictRequest request) {
                    streamedMessages.incrementAndGet();
                    answers.onNext(half(request));
                }

                @Override
                public void onError(Throwable failure) {
                    endedStreams.release();
                }

                @Override
                public void onCompleted() {
                    answers.onCompleted();
                    endedStreams.release();
                }
            };
        }

        private static PredictResponse half(PredictRequest request) {
            PredictResponse.Builder response = PredictResponse.newBuilder().setModel("half").setId(request.getId());
            request.getFeaturesList().forEach(x -> response.addOutputs(x / 2 + 2));
            return response.setPrediction(response.getOutputs(0)).build();
        }
    }
}
