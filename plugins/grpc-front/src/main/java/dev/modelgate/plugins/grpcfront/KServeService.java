package dev.modelgate.plugins.grpcfront;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.modelgate.plugins.kservev2.protobuf.inference.GRPCInferenceServiceGrpc;
import dev.modelgate.plugins.kservev2.protobuf.inference.ModelReadyResponse;
import dev.modelgate.plugins.kservev2.protobuf.inference.ModelStreamInferResponse;
import dev.modelgate.plugins.kservev2.protobuf.inference.ServerLiveResponse;
import dev.modelgate.plugins.kservev2.protobuf.inference.ServerMetadataResponse;
import dev.modelgate.plugins.kservev2.protobuf.inference.ServerReadyResponse;
import dev.modelgate.spi.Operation;
import io.grpc.ServerServiceDefinition;

/**
 * The Open Inference Protocol's {@code inference.GRPCInferenceService}, with Triton's {@code ModelStreamInfer}: each
 * call through the pipeline, its messages read and written by the {@code kserve-v2} Protobuf codec (raw contents
 * included).
 */
final class KServeService {

    private static final String DIALECT = "kserve-v2";

    private final Calls calls;
    private final String serverVersion;

    KServeService(Calls calls, String serverVersion) {
        this.calls = calls;
        this.serverVersion = serverVersion;
    }

    ServerServiceDefinition definition(Handlers handlers) {
        BoundService bound = new BoundService();
        bound.add(GRPCInferenceServiceGrpc.getServerLiveMethod(), handlers.unary(this::serverLive));
        bound.add(GRPCInferenceServiceGrpc.getServerReadyMethod(), handlers.unary(this::serverReady));
        bound.add(GRPCInferenceServiceGrpc.getServerMetadataMethod(), handlers.unary(this::serverMetadata));
        bound.add(GRPCInferenceServiceGrpc.getModelReadyMethod(), handlers.unary(this::modelReady));
        bound.add(GRPCInferenceServiceGrpc.getModelMetadataMethod(), handlers.unary(this::modelMetadata));
        bound.add(GRPCInferenceServiceGrpc.getModelInferMethod(), handlers.unary(this::modelInfer));
        bound.add(GRPCInferenceServiceGrpc.getModelStreamInferMethod(), handlers.stream(this::streamInfer));
        return bound.definition(GRPCInferenceServiceGrpc.getServiceDescriptor());
    }

    private Outcome server(CallContext call, String verb, byte[] request, String type) {
        try {
            MessageFields.strings(request);
        } catch (InvalidProtocolBufferException e) {
            return calls.malformed(call, DIALECT, type, e);
        }
        return calls.run(call.request(DIALECT, Operation.SERVER, null, null, verb, request));
    }

    private Outcome serverLive(CallContext call, byte[] request) {
        Outcome outcome = server(call, "live", request, "inference.ServerLiveRequest");
        return outcome.failed() ? outcome
                : outcome.answering(ServerLiveResponse.newBuilder().setLive(true).build().toByteArray());
    }

    /** Ready when every backend is and the gateway is not draining. */
    private Outcome serverReady(CallContext call, byte[] request) {
        Outcome outcome = server(call, "ready", request, "inference.ServerReadyRequest");
        return outcome.failed() ? outcome : outcome.answering(ServerReadyResponse.newBuilder()
                .setReady(outcome.ok() && calls.pipeline().ready()).build().toByteArray());
    }

    private Outcome serverMetadata(CallContext call, byte[] request) {
        Outcome outcome = server(call, "metadata", request, "inference.ServerMetadataRequest");
        return outcome.failed() ? outcome : outcome.answering(ServerMetadataResponse.newBuilder()
                .setName("modelgate").setVersion(serverVersion).build().toByteArray());
    }

    /** A call about one model, named by fields 1 (name) and 2 (version) as in every request of the service. */
    private Outcome aboutModel(CallContext call, byte[] request, Operation operation, String verb, String type) {
        String[] named;
        try {
            named = MessageFields.strings(request, 1, 2);
        } catch (InvalidProtocolBufferException e) {
            return calls.malformed(call, DIALECT, type, e);
        }
        return calls.run(call.request(DIALECT, operation, MessageFields.orNull(named[0]),
                MessageFields.orNull(named[1]), verb, request));
    }

    private Outcome modelReady(CallContext call, byte[] request) {
        Outcome outcome = aboutModel(call, request, Operation.GET_MODEL, "ready", "inference.ModelReadyRequest");
        return outcome.failed() ? outcome
                : outcome.answering(ModelReadyResponse.newBuilder().setReady(outcome.ok()).build().toByteArray());
    }

    /** The codec's {@code ModelMetadataResponse}, as it wrote it. */
    private Outcome modelMetadata(CallContext call, byte[] request) {
        return aboutModel(call, request, Operation.GET_MODEL, "metadata", "inference.ModelMetadataRequest");
    }

    /** The codec's {@code ModelInferResponse}, as it wrote it. */
    private Outcome modelInfer(CallContext call, byte[] request) {
        return aboutModel(call, request, Operation.PREDICT, "infer", "inference.ModelInferRequest");
    }

    /**
     * One inference of a {@code ModelStreamInfer} stream: its answer in {@code infer_response}, or its failure in
     * {@code error_message} (with the code, as Triton's clients read only that string).
     */
    private Outcome streamInfer(CallContext call, byte[] request) {
        Outcome outcome = modelInfer(call, request);
        if (Calls.endsStream(outcome)) {
            return outcome;
        }
        if (outcome.failed()) {
            return Outcome.answer(ModelStreamInferResponse.newBuilder()
                    .setErrorMessage(outcome.errorMessage() + " (code " + outcome.error().code() + ")")
                    .build().toByteArray());
        }
        return outcome.answering(Calls.embedded(ModelStreamInferResponse.INFER_RESPONSE_FIELD_NUMBER,
                outcome.message()));
    }
}
