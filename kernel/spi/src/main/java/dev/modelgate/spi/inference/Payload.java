package dev.modelgate.spi.inference;

import dev.modelgate.spi.Headers;

/**
 * A message body as a codec reads or writes it.
 *
 * @param contentType the media type with its parameters, as in a {@code Content-Type} header
 * @param headers further headers the body depends on (Triton's {@code Inference-Header-Content-Length}); empty when
 *     none, owned by whoever receives the payload
 * @param body the bytes
 */
public record Payload(String contentType, Headers headers, byte[] body) {

    public Payload(String contentType, byte[] body) {
        this(contentType, new Headers(), body);
    }

    /** The media type without parameters, in lower case: {@code application/json}. */
    public String mediaType() {
        return InferenceCodec.mediaTypeOf(contentType);
    }
}
