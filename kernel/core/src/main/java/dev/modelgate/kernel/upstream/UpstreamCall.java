package dev.modelgate.kernel.upstream;

import dev.modelgate.spi.Headers;
import dev.modelgate.spi.upstream.UpstreamAnswer;
import dev.modelgate.spi.upstream.UpstreamException;
import dev.modelgate.spi.upstream.UpstreamRequest;
import io.undertow.connector.PooledByteBuffer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.xnio.IoFuture;
import org.xnio.IoUtils;
import org.xnio.StreamConnection;
import org.xnio.XnioExecutor;
import org.xnio.XnioIoThread;
import org.xnio.channels.StreamSinkChannel;
import org.xnio.channels.StreamSourceChannel;
import org.xnio.ssl.SslConnection;

/**
 * One call of a pool, from taking a connection to the answer's last byte, every step on {@link #thread}: the state
 * needs no lock. The stage completes once, on that thread; a failure after it completed (a streamed body) goes to
 * the stream's reader instead.
 *
 * <p>The call's time runs from its start to its end, the body of a streamed answer included; waiting for a
 * connection ends at the pool timeout or the call's, whichever comes first, as {@code POOL_EXHAUSTED}.
 */
final class UpstreamCall {

    /** How far the call has come with its connection, which tells a failure's meaning. */
    private enum Phase {
        /** No connection yet, or the request is not whole on it: the server cannot have acted on it. */
        SENDING,
        /** The request went out whole; no answer yet. */
        SENT,
        /** The answer's head came; its body is being read. */
        ANSWERED
    }

    /** The longest body read whole, whatever the call's limit: the most one array holds. */
    private static final int MAX_WHOLE_BYTES = Integer.MAX_VALUE - 8;
    /**
     * The most a body read whole is given before its bytes come: a declared length is the server's word only, and
     * taken at its word a few answers declaring the limit (64 MB by default) would take the heap before sending a byte.
     */
    private static final int UPFRONT_BYTES = 64 * 1024;

    private final IoUpstreamPool pool;
    private final UpstreamRequest request;
    final XnioIoThread thread;
    /** Cancelling it before it completes ends the call at once (see {@link dev.modelgate.spi.upstream.UpstreamPool#send}). */
    final CompletableFuture<UpstreamAnswer> result = new CompletableFuture<>() {
        @Override
        public boolean cancel(boolean mayInterruptIfRunning) {
            boolean cancelled = super.cancel(mayInterruptIfRunning);
            if (cancelled) {
                thread.execute(() -> fail(UpstreamException.Kind.TIMED_OUT, "cancelled by its caller", null));
            }
            return cancelled;
        }
    };
    /** The list of calls whose time it is in while it runs, else {@code null}; and its place in that list. */
    Deadlines deadlines;
    long deadline;
    UpstreamCall earlier;
    UpstreamCall later;
    private XnioExecutor.Key poolTimer;
    private boolean poolTimeUp;
    private XnioExecutor.Key connectTimer;
    private IoFuture<? extends StreamConnection> connecting;
    /** Whether the server's name is being looked up for the connection this call opens (counted already). */
    private boolean resolving;
    private IoUpstreamPool.Connection connection;
    private Phase phase = Phase.SENDING;
    private boolean waiting;
    /** Whether the request is whole on the connection. */
    private boolean sent;
    /** Whether any byte of an answer came on the connection. */
    private boolean heard;
    /** Whether the request was sent again after a kept-alive connection turned out closed. */
    private boolean resent;
    private boolean done;
    private int status;
    private Headers answerHeaders;
    private long declared;
    private long received;
    /** A body read whole: its bytes so far; once it is all here, exactly its declared length when known. */
    private byte[] whole;
    /** Where a streamed body goes: its reader's stream, or the listener the stream was pushed to. */
    private AnswerSink sink;
    /** The data of a streamed body that the current read brought, to be passed on at its end. */
    private byte[] unsent;
    /** Whether the sink is full, and reading from the server suspended until it catches up. */
    private boolean paused;

    UpstreamCall(IoUpstreamPool pool, UpstreamRequest request, XnioIoThread thread) {
        this.pool = pool;
        this.request = request;
        this.thread = thread;
    }

    void start() {
        pool.deadlines(thread).add(this, request.timeoutNanos());
        acquire();
    }

    /** Takes an idle connection of this thread, or opens one, or waits for one; again when woken. */
    void acquire() {
        waiting = false;
        if (done) {
            return;
        }
        if (pool.closed()) {
            fail(UpstreamException.Kind.CLOSED, "the connection pool is closed", null);
            return;
        }
        IoUpstreamPool.Connection idle = pool.takeIdle(thread);
        if (idle != null) {
            idle.reused = true;
            send(idle);
        } else if (pool.reserve(thread)) {
            connect();
        } else if (poolTimeUp) {
            poolExhausted();
        } else {
            if (poolTimer == null) {
                poolTimer = thread.executeAfter(this::poolTimedOut, Math.max(1, pool.settings.poolTimeout().toNanos()),
                        TimeUnit.NANOSECONDS);
            }
            waiting = true;
            pool.await(this);
        }
    }

    /** Takes over {@code freed}, a connection of its thread freed while it waited. On its thread. */
    void takeOver(IoUpstreamPool.Connection freed) {
        waiting = false;
        cancel(poolTimer);
        poolTimer = null;
        freed.reused = true;
        send(freed);
    }

    private void poolTimedOut() {
        poolTimer = null;
        poolTimeUp = true;
        if (waiting && !done) {
            poolExhausted();
        }
    }

    private void poolExhausted() {
        fail(UpstreamException.Kind.POOL_EXHAUSTED, "no free connection: every pooled connection stayed in use",
                null);
    }

    /** The call's time is up. */
    void expire() {
        if (done) {
            return;
        }
        if (waiting) {
            poolExhausted();
        } else {
            fail(UpstreamException.Kind.TIMED_OUT, "no whole answer within the call's time", null);
        }
    }

    /** Opens a connection, counted already: the server's name looked up first, all within the connect timeout. */
    private void connect() {
        resolving = true;
        connectTimer = thread.executeAfter(this::connectTimedOut,
                Math.max(1, pool.settings.connectTimeout().toNanos()), TimeUnit.NANOSECONDS);
        pool.resolve(thread, this::connectTo, unknown -> {
            if (resolving) {
                fail(UpstreamException.Kind.CONNECT_FAILED, "cannot resolve the server's name", unknown);
            }
        });
    }

    private void connectTo(InetSocketAddress address) {
        if (!resolving) {
            return; // given up on while the name was looked up, and its count freed then
        }
        IoFuture<? extends StreamConnection> future;
        try {
            future = pool.connect(thread, address);
        } catch (RuntimeException e) {
            fail(UpstreamException.Kind.CONNECT_FAILED, "cannot connect to the server", new IOException(e));
            return;
        }
        resolving = false;
        connecting = future;
        future.addNotifier(new IoFuture.HandlingNotifier<StreamConnection, Void>() {
            @Override
            public void handleDone(StreamConnection opened, Void attachment) {
                connected(future, opened);
            }

            @Override
            public void handleFailed(IOException exception, Void attachment) {
                if (connecting == future) {
                    fail(UpstreamException.Kind.CONNECT_FAILED, "cannot connect to the server", exception);
                }
            }
        }, null);
    }

    private void connected(IoFuture<? extends StreamConnection> future, StreamConnection opened) {
        if (connecting != future) {
            // Given up on (timed out, or the call ended) and its count freed then.
            IoUtils.safeClose(opened);
            return;
        }
        connecting = null;
        cancel(connectTimer);
        IoUpstreamPool.Connection made = pool.opened(opened);
        if (opened instanceof SslConnection tls) {
            try {
                tls.startHandshake();
            } catch (IOException e) {
                connection = made;
                fail(UpstreamException.Kind.CONNECT_FAILED, "the TLS handshake could not start", e);
                return;
            }
        }
        send(made);
    }

    private void connectTimedOut() {
        connectTimer = null;
        if (connecting != null || resolving) {
            fail(UpstreamException.Kind.CONNECT_FAILED, "connecting took longer than the connect timeout", null);
        }
    }

    /**
     * Gives up the connection being opened (or its name being looked up), and its count: part of every failure while
     * connecting.
     */
    private void abandonConnect() {
        if (connecting != null) {
            connecting.cancel();
            connecting = null;
        }
        resolving = false;
        pool.unreserve(thread);
    }

    private void send(IoUpstreamPool.Connection leased) {
        connection = leased;
        phase = Phase.SENDING;
        sent = false;
        heard = false;
        leased.call = this;
        leased.parser.start("HEAD".equals(request.method()));
        leased.writer.prepare(request, pool.hostHeader);
        writable();
    }

    /** Writes what the connection takes of the request; on its thread, again as it takes more. */
    void writable() {
        if (done || sent) {
            return;
        }
        StreamSinkChannel sink = connection.connection.getSinkChannel();
        try {
            if (!connection.writer.write(sink)) {
                sink.resumeWrites();
                return;
            }
        } catch (IOException e) {
            broke(e);
            return;
        }
        if (sink.isWriteResumed()) {
            sink.suspendWrites();
        }
        sent = true;
        if (phase == Phase.SENDING) {
            phase = Phase.SENT;
        }
    }

    /**
     * The connection broke, or closed, before the whole answer came ({@code e} is {@code null} for a close): what
     * that means depends on how far the call came.
     */
    private void broke(IOException e) {
        if (done) {
            return;
        }
        boolean reused = connection.reused;
        if (!heard && !reused && pool.tls() && phase == Phase.SENDING) {
            // A new TLS connection that ends before it took the request (no data goes before the handshake ends):
            // its handshake failed. One that took the whole request broke, as a plain one does.
            fail(UpstreamException.Kind.CONNECT_FAILED, "the TLS connection closed before any answer: a certificate "
                    + "not trusted or not naming the server", e);
        } else if (heard) {
            fail(UpstreamException.Kind.BROKEN, "the connection broke before the whole answer came", e);
        } else if (phase == Phase.SENDING && reused) {
            // A kept-alive connection found closed before the request was whole on it: no failure, take another.
            dropConnection();
            acquire();
        } else if (phase == Phase.SENDING) {
            fail(UpstreamException.Kind.CONNECT_FAILED, "the server closed the connection before the request", e);
        } else if (reused && idempotent() && !resent) {
            // A GET or HEAD the server may not have taken is sent once more on another connection, as Apache did.
            resent = true;
            dropConnection();
            acquire();
        } else if (reused) {
            fail(UpstreamException.Kind.STALE_CONNECTION, "the server closed a kept-alive connection", e);
        } else {
            fail(UpstreamException.Kind.BROKEN, "the connection broke before the whole answer came", e);
        }
    }

    private boolean idempotent() {
        return "GET".equals(request.method()) || "HEAD".equals(request.method());
    }

    /**
     * Reads what came of the answer and takes it, until the answer ends, nothing more is there, or a streamed
     * body's reader falls behind. A read shorter than the buffer emptied the socket: the next one would find nothing,
     * so it is left to the next readiness. On the connection's thread.
     */
    void readable() {
        StreamSourceChannel source = connection.connection.getSourceChannel();
        try (PooledByteBuffer pooled = pool.buffers.allocate()) {
            ByteBuffer buffer = pooled.getBuffer();
            while (!done && !paused) {
                buffer.clear();
                int count;
                try {
                    count = source.read(buffer);
                } catch (IOException e) {
                    broke(e);
                    return;
                }
                if (count < 0) {
                    closed();
                    return;
                }
                if (count == 0) {
                    return;
                }
                heard = true;
                buffer.flip();
                // TLS may hold decrypted bytes back that the socket's readiness no longer tells of.
                boolean mayHoldMore = count == buffer.capacity() || pool.tls();
                connection.mayHoldMore = mayHoldMore;
                take(buffer);
                if (!mayHoldMore) {
                    return;
                }
            }
        }
    }

    /** Takes what a read brought: the rest of the head, then of the body. */
    private void take(ByteBuffer buffer) {
        AnswerParser parser = connection.parser;
        try {
            while (phase != Phase.ANSWERED) {
                if (!parser.head(buffer)) {
                    return;
                }
                if (parser.interim()) {
                    // A 100 Continue or 103 Early Hints: the answer's own head follows.
                    parser.start("HEAD".equals(request.method()));
                    continue;
                }
                answered(parser);
                if (done) {
                    return;
                }
            }
            boolean ended = parser.body(buffer, this::piece);
            if (done) {
                return;
            }
            passOn();
            if (ended) {
                // Bytes past the answer are a server's fault: its connection is not trusted with another request.
                bodyEnded(parser.keepAlive() && !buffer.hasRemaining() && sent);
            }
        } catch (UpstreamException e) {
            fail(e);
        }
    }

    /** The server closed the connection: the end of a body read to the close, else a break. */
    private void closed() {
        if (phase == Phase.ANSWERED && connection.parser.endsAtClose()) {
            bodyEnded(false);
        } else if (phase == Phase.ANSWERED) {
            fail(UpstreamException.Kind.BROKEN, "the connection closed before the whole answer came", null);
        } else {
            broke(null);
        }
    }

    private void answered(AnswerParser parser) {
        phase = Phase.ANSWERED;
        status = parser.status();
        answerHeaders = parser.headers();
        declared = parser.declaredLength();
        if (declared > request.maxResponseBytes()) {
            // Refused before a byte of it is read.
            tooLarge();
            return;
        }
        if (status >= 200 && status < 300 && request.streamAboveBytes() != Integer.MAX_VALUE
                && (declared < 0 || declared > request.streamAboveBytes())) {
            AnswerStream stream = new AnswerStream(this);
            sink = stream;
            result.complete(new UpstreamAnswer(status, answerHeaders, declared, null, stream));
        } else if (declared > MAX_WHOLE_BYTES) {
            tooLarge(MAX_WHOLE_BYTES);
        } else {
            whole = new byte[declared >= 0 ? (int) Math.min(declared, UPFRONT_BYTES) : 8192];
        }
    }

    /** Takes a piece of the body: into the whole body, or to the stream's reader. */
    private boolean piece(ByteBuffer buffer, int count) {
        if (received + count > request.maxResponseBytes()) {
            tooLarge();
            return false;
        }
        if (sink != null) {
            received += count;
            if (unsent == null) {
                unsent = new byte[count];
                buffer.get(unsent);
            } else {
                int at = unsent.length;
                unsent = Arrays.copyOf(unsent, at + count);
                buffer.get(unsent, at, count);
            }
            return true;
        }
        if (received + count > MAX_WHOLE_BYTES) {
            tooLarge(MAX_WHOLE_BYTES);
            return false;
        }
        if (received + count > whole.length) {
            long most = declared >= 0 ? declared : Math.min(request.maxResponseBytes(), MAX_WHOLE_BYTES);
            whole = Arrays.copyOf(whole, (int) Math.min(Math.max(whole.length * 2L, received + count), most));
        }
        buffer.get(whole, (int) received, count);
        received += count;
        return true;
    }

    /**
     * Passes what a read brought of a streamed body to its reader, in one piece: until the reader catches up with a
     * full queue, nothing more is read.
     */
    private void passOn() {
        if (unsent != null) {
            byte[] piece = unsent;
            unsent = null;
            if (!sink.offer(piece)) {
                pause();
            }
        }
    }

    /** The body's last byte came; the connection serves again if {@code reusable}. */
    private void bodyEnded(boolean reusable) {
        end(reusable);
        if (sink != null) {
            sink.end();
        } else {
            byte[] bytes = received == whole.length ? whole : Arrays.copyOf(whole, (int) received);
            result.complete(new UpstreamAnswer(status, answerHeaders, declared, bytes, null));
        }
    }

    private void tooLarge() {
        tooLarge(request.maxResponseBytes());
    }

    private void tooLarge(long limit) {
        fail(UpstreamException.Kind.TOO_LARGE, "the response is larger than the limit of " + limit + " bytes", null);
    }

    /** Stops reading from the server until the sink catches up. */
    private void pause() {
        paused = true;
        connection.connection.getSourceChannel().suspendReads();
    }

    /** Reads from the server again, the sink having caught up. On the call's thread. */
    private void resume() {
        if (paused && !done) {
            paused = false;
            connection.connection.getSourceChannel().resumeReads();
            readable();
        }
    }

    /**
     * The stream's chunks go to {@code push} from now on; it took what the stream held, and wants more when
     * {@code more}. On the call's thread.
     */
    void handOver(AnswerPush push, boolean more) {
        sink = push;
        if (done) {
            return;
        }
        if (more) {
            resume();
        } else if (!paused) {
            pause();
        }
    }

    /** Runs {@code task} on the call's thread: at once when called there. */
    void onThread(Runnable task) {
        if (Thread.currentThread() == thread) {
            task.run();
        } else {
            thread.execute(task);
        }
    }

    /** The stream's reader caught up: reading from the server goes on. From the reader's thread. */
    void readerCaughtUp() {
        thread.execute(this::resume);
    }

    /** The stream's reader closed it before its end: the connection is dropped. From the reader's thread. */
    void readerClosed() {
        thread.execute(() -> {
            if (!done) {
                done = true;
                stopTimers();
                dropConnection();
            }
        });
    }

    /** Closes the call's connection, unread. */
    private void dropConnection() {
        IoUpstreamPool.Connection dropped = connection;
        connection = null;
        dropped.call = null;
        dropped.writer.release();
        pool.drop(dropped);
    }

    /**
     * The answer came whole: the connection goes back to the pool, if {@code reusable}, before anyone hears of the
     * answer.
     */
    private void end(boolean reusable) {
        done = true;
        stopTimers();
        if (!reusable) {
            dropConnection();
            return;
        }
        IoUpstreamPool.Connection used = connection;
        connection = null;
        used.call = null;
        if (paused) {
            // Idle, it must see the server close it.
            used.connection.getSourceChannel().resumeReads();
        }
        pool.release(used, thread);
    }

    /** Ends the call with {@code kind}; its connection, if any, is closed. On the call's thread. */
    void fail(UpstreamException.Kind kind, String message, Throwable cause) {
        fail(new UpstreamException(kind, message, cause));
    }

    private void fail(UpstreamException failure) {
        if (done) {
            return;
        }
        done = true;
        stopTimers();
        if (connecting != null || resolving) {
            abandonConnect();
        }
        if (waiting) {
            waiting = false;
            if (!pool.stopWaiting(this)) {
                // Woken for a free connection it will not take now: the next waiting call may.
                pool.wakeWaiting();
            }
        }
        if (connection != null) {
            dropConnection();
        }
        if (sink != null) {
            sink.fail(failure);
        } else {
            result.completeExceptionally(failure);
        }
    }

    private void stopTimers() {
        if (deadlines != null) {
            deadlines.remove(this);
        }
        cancel(poolTimer);
        cancel(connectTimer);
        poolTimer = null;
        connectTimer = null;
    }

    private static void cancel(XnioExecutor.Key key) {
        if (key != null) {
            key.remove();
        }
    }
}
