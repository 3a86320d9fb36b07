package dev.modelgate.spi.inference;

import dev.modelgate.spi.BackendException;
import dev.modelgate.spi.CoreErrors;
import dev.modelgate.spi.Exchange;
import dev.modelgate.spi.RejectionException;
import java.util.Locale;

/**
 * One dialect's inference messages in one media type: KServe v2 in JSON, TensorFlow Serving in JSON, KServe v2 in
 * Protobuf, ... A front decodes a client's request with it and encodes the answer; a backend adapter speaking the
 * dialect encodes requests with it and decodes answers. Codecs come from {@link CodecProvider}s, so a plugin jar can
 * add one.
 *
 * <p>Thread-safe and stateless: one instance serves every request. Decoding checks every tensor's shape against its
 * data before anything is allocated for it beyond what the body itself holds.
 */
public interface InferenceCodec {

    /** The dialect: {@code kserve-v2}, {@code tf-serving}. */
    String dialect();

    /** The media type it writes, without parameters: {@code application/json}. */
    String mediaType();

    /** Whether it reads bodies of {@code mediaType} (lower case, without parameters). */
    default boolean reads(String mediaType) {
        return mediaType().equals(mediaType);
    }

    /**
     * Decodes a client's request. {@code exchange} names the model and version and the call's verb; a codec may keep
     * what it needs to shape the answer (row or columnar form, binary outputs) in the exchange's attributes.
     *
     * @param metadata the model's metadata when the backend knows it (to name an unnamed input and give JSON numbers
     *     their data type), else {@code null}
     * @throws RejectionException with a code of domain 2 when the body is not a valid request of the dialect
     */
    InferenceRequest decodeRequest(Payload payload, Exchange exchange, ModelMetadata metadata);

    /** Encodes the answer to a request this codec (or another of its dialect) decoded on {@code exchange}. */
    Payload encodeResponse(InferenceResponse response, Exchange exchange);

    /** Encodes a request for a backend that speaks the dialect. */
    Payload encodeRequest(InferenceRequest request);

    /**
     * Decodes a backend's successful answer to {@code request}.
     *
     * @throws BackendException of kind {@link BackendException.Kind#PROTOCOL} when it is not a valid answer
     */
    InferenceResponse decodeResponse(Payload payload, InferenceRequest request) throws BackendException;

    /** Encodes a model's metadata as the dialect's metadata answer ({@code GET /v2/models/{m}}, TF Serving's
     * {@code .../metadata}). */
    Payload encodeMetadata(ModelMetadata metadata, Exchange exchange);

    /**
     * Decodes a backend's metadata answer for {@code model}.
     *
     * @throws BackendException of kind {@link BackendException.Kind#PROTOCOL} when it is not valid metadata
     */
    ModelMetadata decodeMetadata(Payload payload, String model) throws BackendException;

    /** The media type of a {@code Content-Type} or {@code Accept} entry, lower case, without parameters. */
    static String mediaTypeOf(String contentType) {
        if (contentType == null) {
            return "";
        }
        int end = contentType.indexOf(';');
        return (end < 0 ? contentType : contentType.substring(0, end)).strip().toLowerCase(Locale.ROOT);
    }

    /**
     * The model or version a call is for, given by the exchange (its path or route) and by the message: the exchange's,
     * else the message's; {@code null} when neither gives one. An empty {@code fromMessage} gives none.
     *
     * @param what what is named, for the message: {@code model}, {@code model version}
     * @throws RejectionException with {@link CoreErrors#INVALID_PREDICT_REQUEST} when both give one and they differ
     */
    static String agreeing(String what, String fromExchange, String fromMessage) {
        if (fromMessage.isEmpty()) {
            return fromExchange;
        }
        if (fromExchange != null && !fromExchange.equals(fromMessage)) {
            throw new RejectionException(CoreErrors.INVALID_PREDICT_REQUEST, "the message names " + what + " '"
                    + fromMessage + "', but the request is for " + what + " '" + fromExchange + "'");
        }
        return fromMessage;
    }

    /** A rejection of a body that is not what its content type says, with {@link CoreErrors#MALFORMED_BODY}. */
    static RejectionException malformed(String mediaType, String detail) {
        return new RejectionException(CoreErrors.MALFORMED_BODY, "not a valid " + mediaType + " body: " + detail);
    }
}
