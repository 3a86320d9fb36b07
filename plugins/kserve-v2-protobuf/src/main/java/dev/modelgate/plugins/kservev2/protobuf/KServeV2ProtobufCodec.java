package dev.modelgate.plugins.kservev2.protobuf;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Parser;
import com.google.protobuf.UnsafeByteOperations;
import dev.modelgate.plugins.kservev2.protobuf.inference.ModelInferRequest;
import dev.modelgate.plugins.kservev2.protobuf.inference.ModelInferResponse;
import dev.modelgate.plugins.kservev2.protobuf.inference.ModelMetadataResponse;
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
import dev.modelgate.spi.inference.RequestedOutput;
import dev.modelgate.spi.inference.Tensor;
import dev.modelgate.spi.inference.TensorMetadata;
import java.util.Arrays;
import java.util.List;

/**
 * The Open Inference Protocol (KServe v2) in its gRPC messages ({@code ModelInferRequest}, {@code ModelInferResponse},
 * {@code ModelMetadataResponse} of {@code open_inference_grpc.proto}), as {@code application/x-protobuf} bodies; it
 * also reads {@code application/protobuf}.
 *
 * <p>It reads tensors from typed contents or raw contents and always writes raw contents, which is what Triton's and
 * KServe's clients read fastest. Raw tensors are neither copied on the way in (they stay views into the body, which
 * must therefore not change once decoded) nor on the way out. Thread-safe and stateless.
 */
final class KServeV2ProtobufCodec implements InferenceCodec {

    static final String DIALECT = "kserve-v2";
    static final String MEDIA_TYPE = "application/x-protobuf";
    private static final String ALSO_READ = "application/protobuf";

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
     * <p>The exchange's model and version win; the message's {@code model_name} and {@code model_version} may repeat
     * them but not contradict them, and name them when the exchange does not. {@code metadata} is not needed: every
     * tensor names its data type.
     *
     * @throws RejectionException with {@link CoreErrors#MALFORMED_BODY} when the body is not a
     *     {@code ModelInferRequest}; with {@link CoreErrors#INVALID_PREDICT_REQUEST} when it contradicts the exchange,
     *     mixes typed and raw contents or has not one raw entry per input; with the codes of
     *     {@link WireTensor#read} for a tensor whose data does not fit its description
     */
    @Override
    public InferenceRequest decodeRequest(Payload payload, Exchange exchange, ModelMetadata metadata) {
        ModelInferRequest message;
        try {
            message = parse(ModelInferRequest.parser(), payload.body());
        } catch (InvalidProtocolBufferException e) {
            throw InferenceCodec.malformed(MEDIA_TYPE, e.getMessage());
        }
        String model = InferenceCodec.agreeing("model", exchange.model(), message.getModelName());
        if (model == null) {
            throw new RejectionException(CoreErrors.INVALID_PREDICT_REQUEST, "the request names no model");
        }
        String version = InferenceCodec.agreeing("model version", exchange.modelVersion(), message.getModelVersion());
        List<WireTensor> inputs = message.getInputsList().stream()
                .map(input -> new WireTensor(input.getName(), input.getDatatype(), input.getShapeList(),
                        input.getContents()))
                .toList();
        List<RequestedOutput> outputs = message.getOutputsList().stream()
                .map(output -> new RequestedOutput(output.getName(),
                        InferParameters.read(output.getParametersMap())))
                .toList();
        return new InferenceRequest(model, version, emptyToNull(message.getId()),
                WireTensor.read(inputs, message.getRawInputContentsList(), "raw_input_contents"), outputs,
                InferParameters.read(message.getParametersMap()));
    }

    @Override
    public Payload encodeResponse(InferenceResponse response, Exchange exchange) {
        ModelInferResponse.Builder message = ModelInferResponse.newBuilder()
                .setModelName(nullToEmpty(response.model()))
                .setModelVersion(nullToEmpty(response.version()))
                .setId(nullToEmpty(response.id()))
                .putAllParameters(InferParameters.write(response.parameters()));
        for (Tensor output : response.outputs()) {
            message.addOutputs(ModelInferResponse.InferOutputTensor.newBuilder()
                    .setName(output.name())
                    .setDatatype(output.type().name())
                    .addAllShape(shapeOf(output)));
            message.addRawOutputContents(RawContents.write(output));
        }
        return new Payload(MEDIA_TYPE, message.build().toByteArray());
    }

    @Override
    public Payload encodeRequest(InferenceRequest request) {
        ModelInferRequest.Builder message = ModelInferRequest.newBuilder()
                .setModelName(request.model())
                .setModelVersion(nullToEmpty(request.version()))
                .setId(nullToEmpty(request.id()))
                .putAllParameters(InferParameters.write(request.parameters()));
        for (Tensor input : request.inputs()) {
            message.addInputs(ModelInferRequest.InferInputTensor.newBuilder()
                    .setName(input.name())
                    .setDatatype(input.type().name())
                    .addAllShape(shapeOf(input)));
            message.addRawInputContents(RawContents.write(input));
        }
        for (RequestedOutput output : request.outputs()) {
            message.addOutputs(ModelInferRequest.InferRequestedOutputTensor.newBuilder()
                    .setName(output.name())
                    .putAllParameters(InferParameters.write(output.parameters())));
        }
        return new Payload(MEDIA_TYPE, message.build().toByteArray());
    }

    /**
     * {@inheritDoc}
     *
     * <p>Reads typed and raw contents alike. A message without a model name, version or id takes the request's model
     * and id, and no version.
     */
    @Override
    public InferenceResponse decodeResponse(Payload payload, InferenceRequest request) throws BackendException {
        try {
            ModelInferResponse message = parse(ModelInferResponse.parser(), payload.body());
            List<WireTensor> outputs = message.getOutputsList().stream()
                    .map(output -> new WireTensor(output.getName(), output.getDatatype(), output.getShapeList(),
                            output.getContents()))
                    .toList();
            String model = emptyToNull(message.getModelName());
            String id = emptyToNull(message.getId());
            return new InferenceResponse(model == null ? request.model() : model,
                    emptyToNull(message.getModelVersion()), id == null ? request.id() : id,
                    WireTensor.read(outputs, message.getRawOutputContentsList(), "raw_output_contents"),
                    InferParameters.read(message.getParametersMap()));
        } catch (InvalidProtocolBufferException | RejectionException e) {
            throw new BackendException(BackendException.Kind.PROTOCOL,
                    "not a valid KServe v2 " + MEDIA_TYPE + " inference answer: " + e.getMessage(), e);
        }
    }

    @Override
    public Payload encodeMetadata(ModelMetadata metadata, Exchange exchange) {
        ModelMetadataResponse.Builder message = ModelMetadataResponse.newBuilder()
                .setName(metadata.name())
                .addAllVersions(metadata.versions())
                .setPlatform(nullToEmpty(metadata.platform()));
        metadata.inputs().forEach(input -> message.addInputs(tensorMetadataOf(input)));
        metadata.outputs().forEach(output -> message.addOutputs(tensorMetadataOf(output)));
        return new Payload(MEDIA_TYPE, message.build().toByteArray());
    }

    /**
     * {@inheritDoc}
     *
     * <p>A message without a name names {@code model}. Properties are not kept: {@link ModelMetadata} has no place
     * for them.
     */
    @Override
    public ModelMetadata decodeMetadata(Payload payload, String model) throws BackendException {
        try {
            ModelMetadataResponse message = parse(ModelMetadataResponse.parser(), payload.body());
            String name = emptyToNull(message.getName());
            return new ModelMetadata(name == null ? model : name, message.getVersionsList(), message.getPlatform(),
                    message.getInputsList().stream().map(KServeV2ProtobufCodec::tensorMetadataOf).toList(),
                    message.getOutputsList().stream().map(KServeV2ProtobufCodec::tensorMetadataOf).toList());
        } catch (InvalidProtocolBufferException | RejectionException e) {
            throw new BackendException(BackendException.Kind.PROTOCOL,
                    "not valid KServe v2 " + MEDIA_TYPE + " model metadata: " + e.getMessage(), e);
        }
    }

    /** Parses with aliasing, so that {@code bytes} fields (raw contents) are views into {@code body}, not copies. */
    private static <T> T parse(Parser<T> parser, byte[] body) throws InvalidProtocolBufferException {
        // Protobuf aliases only input it may treat as immutable: a bare array's stream copies despite enableAliasing.
        CodedInputStream input = UnsafeByteOperations.unsafeWrap(body).newCodedInput();
        input.enableAliasing(true);
        return parser.parseFrom(input);
    }

    private static List<Long> shapeOf(Tensor tensor) {
        return Arrays.stream(tensor.shape()).boxed().toList();
    }

    private static ModelMetadataResponse.TensorMetadata tensorMetadataOf(TensorMetadata tensor) {
        return ModelMetadataResponse.TensorMetadata.newBuilder()
                .setName(tensor.name())
                .setDatatype(tensor.type().name())
                .addAllShape(tensor.shape())
                .build();
    }

    private static TensorMetadata tensorMetadataOf(ModelMetadataResponse.TensorMetadata tensor) {
        return new TensorMetadata(tensor.getName(), DataType.parse(tensor.getDatatype()), tensor.getShapeList());
    }

    private static String nullToEmpty(String value) {
        return value == null ? "" : value;
    }

    private static String emptyToNull(String value) {
        return value.isEmpty() ? null : value;
    }
}
