package dev.modelgate.spi;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/**
 * A response body. Most bodies are bytes in memory; a streaming body (server-sent events, for instance) writes as it
 * produces and reports an unknown length.
 */
public interface Body {

    Body EMPTY = of(new byte[0]);

    /** The length in bytes, or -1 when unknown until written. */
    long length();

    /**
     * Writes the whole body to {@code out}. Called once, on the request's virtual thread; may block. The caller owns
     * and closes {@code out}.
     */
    void writeTo(OutputStream out) throws IOException;

    /** The body as bytes; a streaming body is drained in full. */
    default byte[] bytes() {
        ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        try {
            writeTo(buffer);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return buffer.toByteArray();
    }

    static Body of(byte[] bytes) {
        return new Body() {
            @Override
            public long length() {
                return bytes.length;
            }

            @Override
            public void writeTo(OutputStream out) throws IOException {
                out.write(bytes);
            }

            @Override
            public byte[] bytes() {
                return bytes;
            }
        };
    }

    static Body of(String text) {
        return of(text.getBytes(StandardCharsets.UTF_8));
    }
}
