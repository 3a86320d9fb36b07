package dev.modelgate.plugins.accesslog;

import dev.modelgate.spi.Body;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A streamed body that counts the bytes it writes, for the access log's line once the stream ends. The count is read
 * on the thread that completes the exchange, after the writing thread is done: an atomic makes it visible there.
 */
final class CountingBody implements Body {

    private final Body body;
    private final AtomicLong written = new AtomicLong();

    CountingBody(Body body) {
        this.body = body;
    }

    /** Bytes written so far. */
    long written() {
        return written.get();
    }

    @Override
    public long length() {
        return body.length();
    }

    @Override
    public void writeTo(OutputStream out) throws IOException {
        body.writeTo(new FilterOutputStream(out) {
            @Override
            public void write(int b) throws IOException {
                out.write(b);
                written.incrementAndGet();
            }

            @Override
            public void write(byte[] bytes, int offset, int length) throws IOException {
                out.write(bytes, offset, length);
                written.addAndGet(length);
            }
        });
    }
}
