package dev.modelgate.spi.inference;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * One client stream of inference messages (the gRPC front's {@code StreamPredict}), as backends see it while they
 * answer its messages: a backend that can stream to its model server keeps its own stream here, so that the client's
 * stream stays one stream to the server rather than one call per message. Each message still passes the whole
 * pipeline; only the backend's connection to its server lasts from the first message to the stream's end.
 *
 * <p>The front opens a session per client stream, answers each message {@link #within} it (the pipeline runs on the
 * calling thread, so the backend finds it with {@link #current}), and {@link #close}s it when the stream ends, which
 * closes what the backends kept. Messages of one stream are answered one at a time; the session is thread-safe as
 * they may be answered on different threads.
 */
public final class StreamSession implements AutoCloseable {

    private static final ThreadLocal<StreamSession> CURRENT = new ThreadLocal<>();

    private final Map<Object, AutoCloseable> kept = new ConcurrentHashMap<>();
    private volatile boolean closed;

    /** The session whose message this thread is answering, or {@code null} outside a stream. */
    public static StreamSession current() {
        return CURRENT.get();
    }

    /** Runs {@code answer} as part of this session, on the calling thread. */
    public <T> T within(Supplier<T> answer) {
        StreamSession outer = CURRENT.get();
        CURRENT.set(this);
        try {
            return answer.get();
        } finally {
            CURRENT.set(outer);
        }
    }

    /**
     * What {@code owner} keeps for this session, opened by {@code open} on the first message that asks for it.
     *
     * @throws IllegalStateException when the session is closed
     */
    @SuppressWarnings("unchecked")
    public <T extends AutoCloseable> T keep(Object owner, Supplier<T> open) {
        if (closed) {
            throw new IllegalStateException("the stream has ended");
        }
        return (T) kept.computeIfAbsent(owner, key -> open.get());
    }

    /** Forgets what {@code owner} kept (a backend stream that broke), closing it; the next message opens anew. */
    public void drop(Object owner) {
        AutoCloseable resource = kept.remove(owner);
        if (resource != null) {
            closeQuietly(resource);
        }
    }

    /** The client's stream ended: closes everything kept. */
    @Override
    public void close() {
        closed = true;
        kept.values().forEach(StreamSession::closeQuietly);
        kept.clear();
    }

    private static void closeQuietly(AutoCloseable resource) {
        try {
            resource.close();
        } catch (Exception e) {
            // Closing a stream the client has left: nothing to tell anyone.
        }
    }
}
