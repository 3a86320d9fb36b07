package dev.modelgate.spi.upstream;

import dev.modelgate.spi.Headers;
import java.io.InputStream;

/**
 * A server's answer: its status and headers, and its body read whole or, as the request allowed, as a stream.
 *
 * @param status the status code
 * @param headers the answer's headers as sent, hop-by-hop ones included
 * @param declaredLength the {@code Content-Length}, or -1 for a body of unknown length (chunked, or to the close)
 * @param bytes the whole body; {@code null} when streamed
 * @param stream the body as it arrives, when streamed, else {@code null}: blocking reads (never on an IO thread),
 *     end of stream at the body's end, and an {@link UpstreamException} when the call breaks, outlives its time or
 *     passes its size. Closing it before its end drops the connection; at its end the connection goes back to the
 *     pool, and only then does the call end. The pools' streams can also be pushed: {@link #streamed()}
 */
public record UpstreamAnswer(int status, Headers headers, long declaredLength, byte[] bytes, InputStream stream) {

    /**
     * The streamed body of a pool's answer, which may be pushed ({@link StreamedBody#push}) rather than read, or
     * {@code null} when the body was read whole. (Its type stays apart from {@link #stream()}'s, which plugins built
     * before it call.)
     */
    public StreamedBody streamed() {
        return (StreamedBody) stream;
    }
}
