package dev.modelgate.kernel;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import org.xnio.conduits.AbstractStreamSinkConduit;
import org.xnio.conduits.StreamSinkConduit;

/**
 * The sink of a connection {@link StrictHttp1} checks: tells whether a response began since the last request head
 * was handed to Undertow, which decides how a refused message is answered. An interim response
 * ({@code 100 Continue}) does not count: the final answer is still to come.
 */
final class ResponseStarts extends AbstractStreamSinkConduit<StreamSinkConduit> {

    private static final byte[] INTERIM = "HTTP/1.1 1".getBytes(StandardCharsets.ISO_8859_1);

    private boolean started;

    ResponseStarts(StreamSinkConduit next) {
        super(next);
    }

    /** The connection's own sink, beneath this one. */
    StreamSinkConduit wire() {
        return next;
    }

    /** Whether a final response began since the last request head was handed over. */
    boolean started() {
        return started;
    }

    /** A request head was handed to Undertow: its answer has not begun. */
    void headHandedOver() {
        started = false;
    }

    private void writing(ByteBuffer first) {
        if (!started && !isInterim(first)) {
            started = true;
        }
    }

    private void writing(ByteBuffer[] srcs, int offs, int len) {
        for (int i = offs; i < offs + len; i++) {
            if (srcs[i].hasRemaining()) {
                writing(srcs[i]);
                return;
            }
        }
    }

    private static boolean isInterim(ByteBuffer bytes) {
        if (bytes.remaining() < INTERIM.length) {
            return false;
        }
        for (int i = 0; i < INTERIM.length; i++) {
            if (bytes.get(bytes.position() + i) != INTERIM[i]) {
                return false;
            }
        }
        return true;
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
        writing(src);
        return next.write(src);
    }

    @Override
    public long write(ByteBuffer[] srcs, int offs, int len) throws IOException {
        writing(srcs, offs, len);
        return next.write(srcs, offs, len);
    }

    @Override
    public int writeFinal(ByteBuffer src) throws IOException {
        writing(src);
        return next.writeFinal(src);
    }

    @Override
    public long writeFinal(ByteBuffer[] srcs, int offs, int len) throws IOException {
        writing(srcs, offs, len);
        return next.writeFinal(srcs, offs, len);
    }

    @Override
    public long transferFrom(FileChannel src, long position, long count) throws IOException {
        started = true;
        return next.transferFrom(src, position, count);
    }

    @Override
    public long transferFrom(org.xnio.channels.StreamSourceChannel source, long count, ByteBuffer throughBuffer)
            throws IOException {
        started = true;
        return next.transferFrom(source, count, throughBuffer);
    }
}
