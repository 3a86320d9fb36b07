package dev.modelgate.plugins.http;

import dev.modelgate.spi.Body;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A backend's answer passed on as it arrives, chunk by chunk, never held whole: server-sent events reach the client
 * as the backend produces them, and a large answer costs one buffer, not its size.
 *
 * <p>Ownership: the body owns the backend's answer stream, and with it a pooled connection, from the moment it is
 * made until it ends. It ends exactly once: when its last byte has been written ({@link #writeTo}) or read
 * ({@link #bytes}), when either fails, or when {@link #abandon} finds it unclaimed. Ending closes the stream (the
 * connection went back to the pool with a complete read, and is dropped otherwise: a stream cut short is never
 * drained) and then tells the {@link Listener} how it ended: the call's completion hook.
 *
 * <p>Whoever receives the body must write it or read it; one nobody claims holds its connection until
 * {@link #abandon}, which the backend runs when the exchange ends without the body having been written, and the
 * call's watchdog at the call's time limit at the latest. The call's time bounds a stream as a whole too: a stream
 * longer than the backend's {@code request-timeout} (or the request's deadline) is cut there by the upstream pool.
 *
 * <p>{@code max-response-size} holds while streaming: past it the backend's answer is dropped. Bytes already
 * written have reached the client, which then sees a truncated stream; {@link #bytes} fails instead.
 *
 * <p>Threads: {@link #writeTo} or {@link #bytes} is called once, by the request's thread (a later call of
 * {@link #bytes} returns the same bytes); {@link #abandon} may be called from any thread, concurrently with them.
 */
final class StreamingBody implements Body {

    /** How a stream ended. */
    enum End {
        /** The backend's last byte was passed on. */
        COMPLETE,
        /** Reading from the backend failed: it broke the connection, or the call's time ran out. */
        BACKEND_FAILED,
        /** The backend sent more than {@code max-response-size}. */
        TOO_LARGE,
        /** Writing to the client failed: it went away. */
        CLIENT_GONE,
        /** Nobody claimed the body before the call's time limit. */
        ABANDONED
    }

    /**
     * The call the body belongs to. Called on the thread that ended the stream: the request's thread, or the
     * watchdog's for {@link End#ABANDONED}; must not block.
     */
    interface Listener {
        /** The stream ended, with the exception that ended it unless it completed or was abandoned. */
        void ended(End end, IOException cause);

        /** What {@link #bytes} throws when the whole body could not be had; {@code cause} as for {@link #ended}. */
        RuntimeException unreadable(End end, IOException cause);
    }

    /** One read from the backend, one write to the client: the pooled buffers Undertow writes from are this size. */
    private static final int CHUNK_BYTES = 16 * 1024;

    private static final int OPEN = 0;
    private static final int CLAIMED = 1;
    private static final int ENDED = 2;

    private final InputStream in;
    private final long limit;
    private final Listener listener;
    private final AtomicInteger state = new AtomicInteger(OPEN);
    private byte[] read;

    /**
     * @param in the backend's answer as it arrives, owned from now on: closing it before its end drops the
     *     connection at once, so that nothing is drained (see {@link dev.modelgate.spi.upstream.UpstreamAnswer})
     * @param limit the most bytes passed on before the answer is dropped as too large
     */
    StreamingBody(InputStream in, long limit, Listener listener) {
        this.in = in;
        this.limit = limit;
        this.listener = listener;
    }

    /**
     * Unknown, as far as the kernel is concerned, whatever the backend declared: the kernel streams only bodies of
     * unknown length and would buffer the others, and a declared length is only a promise until the last byte came.
     * The backend's {@code Content-Length} travels as a header instead, so a client still gets it and sees a cut
     * connection when the backend breaks its promise.
     */
    @Override
    public long length() {
        return -1;
    }

    /**
     * Copies the backend's body to {@code out}, flushing whenever the backend has nothing more buffered: an event
     * goes out as soon as it came, and a bulk transfer in full chunks rather than a flush per read.
     *
     * @throws IOException when the backend or the client failed, the body was too large, or it was abandoned
     */
    @Override
    public void writeTo(OutputStream out) throws IOException {
        if (read != null) {
            out.write(read);
            return;
        }
        claim();
        byte[] buffer = new byte[CHUNK_BYTES];
        long total = 0;
        End end = End.BACKEND_FAILED;
        IOException cause = null;
        try {
            while (true) {
                int count;
                boolean more;
                try {
                    count = in.read(buffer);
                    more = count > 0 && in.available() > 0;
                } catch (IOException e) {
                    cause = e;
                    throw e;
                }
                if (count < 0) {
                    end = End.COMPLETE;
                    return;
                }
                total += count;
                if (total > limit) {
                    end = End.TOO_LARGE;
                    cause = new IOException("the response is larger than the limit of " + limit + " bytes");
                    throw cause;
                }
                try {
                    out.write(buffer, 0, count);
                    if (!more) {
                        out.flush();
                    }
                } catch (IOException e) {
                    end = End.CLIENT_GONE;
                    cause = e;
                    throw e;
                }
            }
        } finally {
            end(end, cause);
        }
    }

    /**
     * The whole body, read within the size limit.
     *
     * @throws RuntimeException the {@link Listener#unreadable} of the failure: the backend failed, the body was too
     *     large, or it was abandoned
     */
    @Override
    public byte[] bytes() {
        if (read != null) {
            return read;
        }
        if (!state.compareAndSet(OPEN, CLAIMED)) {
            throw listener.unreadable(End.ABANDONED, null);
        }
        byte[] all;
        try {
            all = in.readNBytes((int) Math.min(limit + 1, Integer.MAX_VALUE));
        } catch (IOException e) {
            end(End.BACKEND_FAILED, e);
            throw listener.unreadable(End.BACKEND_FAILED, e);
        } catch (RuntimeException e) {
            end(End.BACKEND_FAILED, null);
            throw e;
        }
        if (all.length > limit) {
            end(End.TOO_LARGE, null);
            throw listener.unreadable(End.TOO_LARGE, null);
        }
        end(End.COMPLETE, null);
        read = all;
        return all;
    }

    /**
     * Ends the body if nobody has claimed it yet, dropping its connection; does nothing once it is claimed, as its
     * reader ends it (after an abort, with a failed read). Any thread; idempotent.
     */
    void abandon() {
        if (state.compareAndSet(OPEN, ENDED)) {
            release(End.ABANDONED, null);
        }
    }

    private void claim() throws IOException {
        if (!state.compareAndSet(OPEN, CLAIMED)) {
            throw new IOException("the backend's answer was released: nobody read it within the call's time");
        }
    }

    /** Ends the claimed body. */
    private void end(End end, IOException cause) {
        state.set(ENDED);
        release(end, cause);
    }

    private void release(End end, IOException cause) {
        try {
            // At the body's end its connection is back in the pool already; before it, closing drops it.
            in.close();
        } catch (IOException e) {
            // The connection is gone either way; the pool has forgotten it.
        } finally {
            listener.ended(end, cause);
        }
    }
}
