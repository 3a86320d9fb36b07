package dev.modelgate.plugins.grpcfront;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.modelgate.plugins.modelservice.api.ModelServiceGrpc;
import dev.modelgate.plugins.modelservice.api.PredictResponse;
import dev.modelgate.spi.Operation;
import io.grpc.ServerServiceDefinition;

/**
 * The seed article's {@code ModelService}: {@code Predict} and the bidirectional {@code StreamPredict}, each message
 * through the pipeline, read and written by the {@code model-service} codec. A request without a model goes to
 * {@code fronts.grpc.default-model}.
 */
final class ModelServiceService {

    private static final String DIALECT = "model-service";
    private static final String REQUEST_TYPE = "PredictRequest";
    /** PredictRequest's fields: model_version 2, model 3, id 4. */
    private static final int VERSION = 2;
    private static final int MODEL = 3;
    private static final int ID = 4;

    private final Calls calls;
    private final String defaultModel;

    /** @param defaultModel the model of requests that name none, or {@code null} to refuse them */
    ModelServiceService(Calls calls, String defaultModel) {
        this.calls = calls;
        this.defaultModel = defaultModel;
    }

    ServerServiceDefinition definition(Handlers handlers) {
        BoundService bound = new BoundService();
        bound.add(ModelServiceGrpc.getPredictMethod(), handlers.unary((call, request) -> predict(call, request,
                null)));
        bound.add(ModelServiceGrpc.getStreamPredictMethod(), handlers.stream(this::streamPredict));
        return bound.definition(ModelServiceGrpc.getServiceDescriptor());
    }

    /** @param id when not {@code null}, receives the request's {@code id} (for a stream's error answers) */
    private Outcome predict(CallContext call, byte[] request, String[] id) {
        String[] named;
        try {
            named = MessageFields.strings(request, MODEL, VERSION, ID);
        } catch (InvalidProtocolBufferException e) {
            return calls.malformed(call, DIALECT, REQUEST_TYPE, e);
        }
        if (id != null) {
            id[0] = named[2];
        }
        String model = named[0].isEmpty() ? defaultModel : named[0];
        if (model == null) {
            return calls.run(call.refused(DIALECT, GrpcFrontProvider.NO_MODEL,
                    "set the request's model, or fronts.grpc.default-model"));
        }
        return calls.run(call.request(DIALECT, Operation.PREDICT, model, MessageFields.orNull(named[1]), "predict",
                request));
    }

    /** One message of a stream: its answer, or its failure in the answer's {@code error}, the stream going on. */
    private Outcome streamPredict(CallContext call, byte[] request) {
        String[] id = {""};
        Outcome outcome = predict(call, request, id);
        if (!outcome.failed() || Calls.endsStream(outcome)) {
            return outcome;
        }
        return Outcome.answer(PredictResponse.newBuilder()
                .setId(id[0])
                .setError(dev.modelgate.plugins.modelservice.api.Error.newBuilder()
                        .setCode(outcome.error().code())
                        .setStatus(outcome.error().grpcStatus())
                        .setMessage(outcome.errorMessage()))
                .build().toByteArray());
    }
}
