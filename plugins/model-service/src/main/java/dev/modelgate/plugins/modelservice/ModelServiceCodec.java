package dev.modelgate.plugins.modelservice;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.modelgate.plugins.modelservice.api.PredictRequest;
import dev.modelgate.plugins.modelservice.api.PredictResponse;
import dev.modelgate.spi.BackendException;
import dev.modelgate.spi.CoreErrors;
import dev.modelgate.spi.Exchange;
import dev.modelgate.spi.RejectionException;
import dev.modelgate.spi.inference.DataType;
import dev.modelgate.spi.inference.InferenceCodec;
import dev.modelgate.spi.inference.InferenceRequest;
import dev.modelgate.spi.inference.InferenceResponse;
import dev.modelgate.spi.inference.ModelMetadata;
import dev.modelgate.spi.inference.Payload;
import dev.modelgate.spi.inference.Tensor;
import java.util.List;
import java.util.Map;

/**
 * The seed article's {@code ModelService} ({@code model_service.proto}) in its messages, as
 * {@code application/x-protobuf} bodies of dialect {@code model-service}; the dialect keeps it apart from KServe v2's
 * Protobuf codec, which writes the same media type.
 *
 * <p>A {@code PredictRequest} is one row of features: it becomes one FP32 input of shape [1, n], named as the model's
 * first input when its metadata is known, else {@value #DEFAULT_INPUT}. A {@code PredictResponse} carries the model's
 * first output: {@code prediction} is its first value, {@code outputs} all its values as floats, row-major.
 *
 * <p>The service has no metadata call, so metadata travels as a {@code PredictResponse} holding only what that message
 * has room for: the model's name and one version. Inputs, outputs and the platform are not carried. Thread-safe and
 * stateless.
 */
final class ModelServiceCodec implements InferenceCodec {

    static final String DIALECT = "model-service";
    static final String MEDIA_TYPE = "application/x-protobuf";
    private static final String ALSO_READ = "application/protobuf";
    /** The input's name when the model's metadata is not known: the request's field. */
    static final String DEFAULT_INPUT = "features";
    /** The output's name when a backend answers: the response's field. */
    static final String DEFAULT_OUTPUT = "prediction";

    @Override
    public String dialect() {
        return DIALECT;
    }

    @Override
    public String mediaType() {
        return MEDIA_TYPE;
    }

    @Override
    public boolean reads(String mediaType) {
        return MEDIA_TYPE.equals(mediaType) || ALSO_READ.equals(mediaType);
    }

    /**
     * {@inheritDoc}
     *
     * <p>The exchange's model and version win; the message's {@code model} and {@code model_version} may repeat them
     * but not contradict them, and name them when the exchange does not.
     *
     * @throws RejectionException with {@link CoreErrors#MALFORMED_BODY} when the body is not a
     *     {@code PredictRequest}; with {@link CoreErrors#INVALID_PREDICT_REQUEST} when it names no model, contradicts
     *     the exchange or has no features
     */
    @Override
    public InferenceRequest decodeRequest(Payload payload, Exchange exchange, ModelMetadata metadata) {
        PredictRequest message;
        try {
            message = PredictRequest.parseFrom(payload.body());
        } catch (InvalidProtocolBufferException e) {
            throw InferenceCodec.malformed(MEDIA_TYPE, e.getMessage());
        }
        String model = InferenceCodec.agreeing("model", exchange.model(), message.getModel());
        if (model == null) {
            throw new RejectionException(CoreErrors.INVALID_PREDICT_REQUEST, "the request names no model");
        }
        String version = InferenceCodec.agreeing("model version", exchange.modelVersion(), message.getModelVersion());
        int count = message.getFeaturesCount();
        if (count == 0) {
            throw new RejectionException(CoreErrors.INVALID_PREDICT_REQUEST, "the request has no features");
        }
        float[] features = new float[count];
        for (int i = 0; i < count; i++) {
            features[i] = message.getFeatures(i);
        }
        String input = metadata == null || metadata.inputs().isEmpty()
                ? DEFAULT_INPUT
                : metadata.inputs().get(0).name();
        return new InferenceRequest(model, version, emptyToNull(message.getId()),
                List.of(Tensor.ofFloats(input, new long[] {1, count}, features)), List.of(), Map.of());
    }

    /**
     * {@inheritDoc}
     *
     * @throws RejectionException with {@link ModelServiceCodecProvider#ANSWER_NOT_EXPRESSIBLE} when the answer has
     *     no output, or its first output is BYTES or empty
     */
    @Override
    public Payload encodeResponse(InferenceResponse response, Exchange exchange) {
        if (response.outputs().isEmpty()) {
            throw new RejectionException(ModelServiceCodecProvider.ANSWER_NOT_EXPRESSIBLE,
                    "model '" + response.model() + "' answered no output");
        }
        Tensor first = response.outputs().get(0);
        if (first.type() == DataType.BYTES || first.elementCount() == 0) {
            throw new RejectionException(ModelServiceCodecProvider.ANSWER_NOT_EXPRESSIBLE, "the first output of model '"
                    + response.model() + "', " + first + ", holds no number");
        }
        PredictResponse.Builder message = PredictResponse.newBuilder()
                .setModel(nullToEmpty(response.model()))
                .setModelVersion(nullToEmpty(response.version()))
                .setId(nullToEmpty(response.id()))
                .setPrediction((float) first.doubleAt(0));
        for (int i = 0; i < first.elementCount(); i++) {
            message.addOutputs((float) first.doubleAt(i));
        }
        return new Payload(MEDIA_TYPE, message.build().toByteArray());
    }

    /**
     * {@inheritDoc}
     *
     * <p>The features are the single input's elements, row-major, as floats; requested outputs and parameters are
     * not carried.
     *
     * @throws RejectionException with {@link ModelServiceCodecProvider#REQUEST_NOT_EXPRESSIBLE} unless the request
     *     has exactly one input, of a numeric or BOOL type
     */
    @Override
    public Payload encodeRequest(InferenceRequest request) {
        if (request.inputs().size() != 1) {
            throw new RejectionException(ModelServiceCodecProvider.REQUEST_NOT_EXPRESSIBLE,
                    "a PredictRequest holds one input, but the request has " + request.inputs().size());
        }
        Tensor input = request.inputs().get(0);
        if (input.type() == DataType.BYTES) {
            throw new RejectionException(ModelServiceCodecProvider.REQUEST_NOT_EXPRESSIBLE,
                    "a PredictRequest holds numbers, but input " + input + " holds bytes");
        }
        PredictRequest.Builder message = PredictRequest.newBuilder()
                .setModel(request.model())
                .setModelVersion(nullToEmpty(request.version()))
                .setId(nullToEmpty(request.id()));
        for (int i = 0; i < input.elementCount(); i++) {
            message.addFeatures((float) input.doubleAt(i));
        }
        return new Payload(MEDIA_TYPE, message.build().toByteArray());
    }

    /**
     * {@inheritDoc}
     *
     * <p>The answer becomes one FP32 output of shape [1, k] named {@value #DEFAULT_OUTPUT}: {@code outputs} when the
     * server fills them, else its {@code prediction} alone (what a server written to the article's .proto sends). A
     * message without a model or id takes the request's.
     *
     * @throws BackendException of kind {@link BackendException.Kind#PROTOCOL} when the body is not a
     *     {@code PredictResponse} or carries an error
     */
    @Override
    public InferenceResponse decodeResponse(Payload payload, InferenceRequest request) throws BackendException {
        PredictResponse message = parseResponse(payload, "inference answer");
        if (message.hasError()) {
            throw new BackendException(BackendException.Kind.PROTOCOL, "the ModelService backend answered error "
                    + message.getError().getCode() + " (" + message.getError().getStatus() + "): "
                    + message.getError().getMessage(), null);
        }
        float[] values = new float[Math.max(1, message.getOutputsCount())];
        if (message.getOutputsCount() == 0) {
            values[0] = message.getPrediction();
        } else {
            for (int i = 0; i < values.length; i++) {
                values[i] = message.getOutputs(i);
            }
        }
        String model = emptyToNull(message.getModel());
        String id = emptyToNull(message.getId());
        return new InferenceResponse(model == null ? request.model() : model, emptyToNull(message.getModelVersion()),
                id == null ? request.id() : id,
                List.of(Tensor.ofFloats(DEFAULT_OUTPUT, new long[] {1, values.length}, values)), Map.of());
    }

    /** {@inheritDoc} Only the name and the version the call names (else the latest listed) are carried. */
    @Override
    public Payload encodeMetadata(ModelMetadata metadata, Exchange exchange) {
        String version = exchange.modelVersion() != null ? exchange.modelVersion()
                : metadata.versions().isEmpty() ? "" : metadata.versions().getLast();
        return new Payload(MEDIA_TYPE, PredictResponse.newBuilder()
                .setModel(metadata.name())
                .setModelVersion(version)
                .build()
                .toByteArray());
    }

    /**
     * {@inheritDoc}
     *
     * <p>Reads what {@link #encodeMetadata} writes: a name (else {@code model}) and at most one version; inputs,
     * outputs and platform stay unknown (empty).
     */
    @Override
    public ModelMetadata decodeMetadata(Payload payload, String model) throws BackendException {
        PredictResponse message = parseResponse(payload, "model metadata");
        String name = emptyToNull(message.getModel());
        String version = message.getModelVersion();
        return new ModelMetadata(name == null ? model : name, version.isEmpty() ? List.of() : List.of(version), "",
                List.of(), List.of());
    }

    private static PredictResponse parseResponse(Payload payload, String what) throws BackendException {
        try {
            return PredictResponse.parseFrom(payload.body());
        } catch (InvalidProtocolBufferException e) {
            throw new BackendException(BackendException.Kind.PROTOCOL,
                    "not a valid ModelService " + MEDIA_TYPE + " " + what + ": " + e.getMessage(), e);
        }
    }

    private static String nullToEmpty(String value) {
        return value == null ? "" : value;
    }

    private static String emptyToNull(String value) {
        return value.isEmpty() ? null : value;
    }
}
