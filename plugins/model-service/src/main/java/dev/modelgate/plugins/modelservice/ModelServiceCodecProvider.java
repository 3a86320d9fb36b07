package dev.modelgate.plugins.modelservice;

import dev.modelgate.spi.ErrorCode;
import dev.modelgate.spi.inference.CodecProvider;
import dev.modelgate.spi.inference.InferenceCodec;
import java.util.List;

/**
 * Contributes the seed article's {@code ModelService} messages as {@code application/x-protobuf} bodies of dialect
 * {@code model-service}, for the gRPC front's {@code Predict} and for backends that speak it. Needs no configuration.
 */
public final class ModelServiceCodecProvider implements CodecProvider {

    /** The model answered something a {@code PredictResponse} cannot hold: no output, or a BYTES first output. */
    public static final ErrorCode ANSWER_NOT_EXPRESSIBLE = new ErrorCode(40025, 502, "INTERNAL",
            "the model's answer cannot be expressed as a ModelService PredictResponse");
    /** A request a {@code PredictRequest} cannot hold, for a ModelService backend: not one numeric input. */
    public static final ErrorCode REQUEST_NOT_EXPRESSIBLE = new ErrorCode(40026, 400, "INVALID_ARGUMENT",
            "the request cannot be expressed as a ModelService PredictRequest");

    private final List<InferenceCodec> codecs = List.of(new ModelServiceCodec());

    @Override
    public String type() {
        return ModelServiceCodec.DIALECT;
    }

    @Override
    public List<InferenceCodec> codecs() {
        return codecs;
    }

    @Override
    public List<ErrorCode> errorCodes() {
        return List.of(ANSWER_NOT_EXPRESSIBLE, REQUEST_NOT_EXPRESSIBLE);
    }
}
