package dev.modelgate.kernel.upstream;

import dev.modelgate.spi.upstream.UpstreamAnswer;
import dev.modelgate.spi.upstream.UpstreamException;
import dev.modelgate.spi.upstream.UpstreamRequest;
import io.undertow.client.ClientCallback;
import io.undertow.client.ClientConnection;
import io.undertow.client.ClientExchange;
import io.undertow.client.ClientRequest;
import io.undertow.client.ClientResponse;
import io.undertow.connector.PooledByteBuffer;
import io.undertow.util.HeaderMap;
import io.undertow.util.HeaderValues;
import io.undertow.util.Headers;
import io.undertow.util.HttpString;
import io.undertow.util.Methods;
import io.undertow.util.Protocols;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.xnio.ChannelListener;
import org.xnio.IoFuture;
import org.xnio.IoUtils;
import org.xnio.XnioExecutor;
import org.xnio.XnioIoThread;
import org.xnio.channels.StreamSinkChannel;
import org.xnio.channels.StreamSourceChannel;

/**
 * One call of a pool, from taking a connection to the answer's last byte, every step on {@link #thread}: the state
 * needs no lock. The stage completes once, on that thread; a failure after it completed (a streamed body) goes to
 * the stream's reader instead.
 *
 * <p>The call's timer runs from its start to its end, the body of a streamed answer included; waiting for a
 * connection ends at the pool timeout or the call's, whichever comes first, as {@code POOL_EXHAUSTED}.
 */
final class UpstreamCall {

    /** How far the call has come with its connection, which tells a failure's meaning. */
    private enum Phase {
        /** No connection yet, or the request is not handed to one: nothing reached the server. */
        SENDING,
        /** The request went out; no answer yet. */
        SENT,
        /** The answer's head came; its body is being read. */
        ANSWERED
    }

    private static final HttpString[] FRAMING_HEADERS = {Headers.HOST, Headers.CONTENT_LENGTH,
        Headers.TRANSFER_ENCODING, Headers.CONNECTION};

    /** Undertow's chunk decoder's errors, known by their message codes only. */
    private static final String BAD_TRAILERS = "UT000042";
    private static final String BAD_CHUNK_SIZE = "UT000195";

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
    private XnioExecutor.Key timer;
    private XnioExecutor.Key poolTimer;
    private boolean poolTimeUp;
    private XnioExecutor.Key connectTimer;
    private IoFuture<ClientConnection> connecting;
    private IoUpstreamPool.Connection connection;
    private Phase phase = Phase.SENDING;
    private boolean waiting;
    /** Whether the request was sent again after a kept-alive connection turned out closed. */
    private boolean resent;
    private boolean done;
    private StreamSourceChannel answerChannel;
    private int status;
    private dev.modelgate.spi.Headers answerHeaders;
    private long declared;
    private long received;
    /** A body read whole: its bytes so far, exactly its declared length when known. */
    private byte[] whole;
    /** Where a streamed body goes: its reader's stream, or the listener the stream was pushed to. */
    private AnswerSink sink;
    /** Whether the sink is full, and reading from the server suspended until its reader catches up. */
    private boolean paused;
    /** Whether a read of the answer's body is under way, whose outcome tells of any failure during it. */
    private boolean reading;

    UpstreamCall(IoUpstreamPool pool, UpstreamRequest request, XnioIoThread thread) {
        this.pool = pool;
        this.request = request;
        this.thread = thread;
    }

    void start() {
        timer = thread.executeAfter(this::expire, Math.max(1, request.timeoutNanos()), TimeUnit.NANOSECONDS);
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
        } else if (pool.reserve()) {
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
    private void expire() {
        timer = null;
        if (done) {
            return;
        }
        if (waiting) {
            poolExhausted();
        } else {
            fail(UpstreamException.Kind.TIMED_OUT, "no whole answer within the call's time", null);
        }
    }

    private void connect() {
        IoFuture<ClientConnection> future;
        try {
            future = pool.connect(thread);
        } catch (RuntimeException e) {
            // An address that does not resolve, among others.
            pool.unreserve();
            fail(UpstreamException.Kind.CONNECT_FAILED, "cannot connect to the server", new IOException(e));
            return;
        }
        connecting = future;
        connectTimer = thread.executeAfter(this::connectTimedOut,
                Math.max(1, pool.settings.connectTimeout().toNanos()), TimeUnit.NANOSECONDS);
        future.addNotifier(new IoFuture.HandlingNotifier<ClientConnection, Void>() {
            @Override
            public void handleDone(ClientConnection opened, Void attachment) {
                connected(future, opened);
            }

            @Override
            public void handleFailed(IOException exception, Void attachment) {
                if (connecting == future) {
                    connecting = null;
                    cancel(connectTimer);
                    pool.unreserve();
                    fail(UpstreamException.Kind.CONNECT_FAILED, "cannot connect to the server", exception);
                }
            }
        }, null);
    }

    private void connected(IoFuture<ClientConnection> future, ClientConnection opened) {
        if (connecting != future) {
            // Given up on (timed out, or the call ended) and its count freed then.
            IoUtils.safeClose(opened);
            return;
        }
        connecting = null;
        cancel(connectTimer);
        send(pool.opened(opened));
    }

    private void connectTimedOut() {
        connectTimer = null;
        if (connecting != null) {
            abandonConnect();
            fail(UpstreamException.Kind.CONNECT_FAILED, "connecting took longer than the connect timeout", null);
        }
    }

    private void abandonConnect() {
        IoFuture<ClientConnection> future = connecting;
        connecting = null;
        future.cancel();
        pool.unreserve();
    }

    private void send(IoUpstreamPool.Connection leased) {
        connection = leased;
        phase = Phase.SENDING;
        ClientRequest outgoing = new ClientRequest().setMethod(Methods.fromString(request.method()))
                .setPath(request.target());
        HeaderMap headers = outgoing.getRequestHeaders();
        if (request.headers() != null) {
            request.headers().forEach((name, value) -> headers.add(HttpString.tryFromString(name), value));
        }
        for (HttpString framing : FRAMING_HEADERS) {
            headers.remove(framing);
        }
        headers.put(Headers.HOST, pool.hostHeader);
        byte[] body = request.body();
        if (body != null) {
            headers.put(Headers.CONTENT_LENGTH, body.length);
        }
        // Undertow may tell a failure to both callbacks, and after the call moved to another connection: each
        // callback speaks for its own connection only.
        leased.connection.sendRequest(outgoing, new ClientCallback<>() {
            @Override
            public void completed(ClientExchange exchange) {
                if (connection == leased) {
                    sending(exchange, body, leased);
                }
            }

            @Override
            public void failed(IOException e) {
                if (connection == leased) {
                    broke(e);
                }
            }
        });
    }

    private void sending(ClientExchange exchange, byte[] body, IoUpstreamPool.Connection leased) {
        if (done) {
            return;
        }
        phase = Phase.SENT;
        if (request.headers() == null || !request.headers().contains(Headers.X_FORWARDED_PROTO_STRING)) {
            // Undertow adds it to every request, as its reverse proxy needs; ours sends the headers it is given. The
            // head is written after this callback, so the header goes before it is sent.
            exchange.getRequest().getRequestHeaders().remove(Headers.X_FORWARDED_PROTO);
        }
        exchange.setResponseListener(new ClientCallback<>() {
            @Override
            public void completed(ClientExchange answered) {
                if (connection == leased) {
                    answered(answered);
                }
            }

            @Override
            public void failed(IOException e) {
                if (connection == leased) {
                    broke(e);
                }
            }
        });
        if (body != null && body.length > 0) {
            new BodyWriter(ByteBuffer.wrap(body)).start(exchange.getRequestChannel());
        }
    }

    /** Writes the request's body, then ends it, as the channel takes it. */
    private final class BodyWriter implements ChannelListener<StreamSinkChannel> {
        private final ByteBuffer body;
        private boolean shut;

        BodyWriter(ByteBuffer body) {
            this.body = body;
        }

        void start(StreamSinkChannel channel) {
            channel.getWriteSetter().set(this);
            handleEvent(channel);
        }

        @Override
        public void handleEvent(StreamSinkChannel channel) {
            try {
                while (body.hasRemaining()) {
                    if (channel.write(body) == 0) {
                        channel.resumeWrites();
                        return;
                    }
                }
                if (!shut) {
                    channel.shutdownWrites();
                    shut = true;
                }
                if (!channel.flush()) {
                    channel.resumeWrites();
                    return;
                }
                channel.suspendWrites();
            } catch (IOException e) {
                broke(e);
            }
        }
    }

    /** Undertow reports the connection failed: what that means depends on how far the call came. */
    private void broke(IOException e) {
        if (done || reading) {
            // While reading, Undertow tells of a close it made itself (after a framing error) before the read
            // throws what caused it: the read's own exception tells.
            return;
        }
        boolean reused = connection != null && connection.reused;
        if (phase == Phase.SENDING && reused) {
            // A kept-alive connection found closed before anything was sent on it: no failure, take another.
            dropConnection();
            acquire();
        } else if (phase == Phase.SENT && !reused && pool.tls() && e instanceof ClosedChannelException) {
            // A new TLS connection closed with no answer: its handshake failed, which Undertow tells no better.
            fail(UpstreamException.Kind.CONNECT_FAILED, "the TLS connection closed before any answer: a certificate "
                    + "not trusted or not naming the server, or an answer that is not HTTP/1.1", e);
        } else if (malformed(e)) {
            fail(UpstreamException.Kind.MALFORMED, "the answer is not well-formed HTTP/1.1", e);
        } else if (phase == Phase.SENDING) {
            fail(UpstreamException.Kind.CONNECT_FAILED, "the server closed the connection before the request", e);
        } else if (phase == Phase.SENT && reused && idempotent() && !resent) {
            // A GET or HEAD the server may not have taken is sent once more on another connection, as Apache did.
            resent = true;
            dropConnection();
            acquire();
        } else if (phase == Phase.SENT && reused) {
            fail(UpstreamException.Kind.STALE_CONNECTION, "the server closed a kept-alive connection", e);
        } else {
            fail(UpstreamException.Kind.BROKEN, "the connection broke before the whole answer came", e);
        }
    }

    private boolean idempotent() {
        return "GET".equals(request.method()) || "HEAD".equals(request.method());
    }

    /**
     * Whether Undertow failed to parse the answer: its parsers' errors come wrapped, or with codes of their own,
     * unlike those of a connection that broke.
     */
    private boolean malformed(IOException e) {
        if (phase == Phase.SENT && e instanceof ClosedChannelException) {
            // Undertow closed the connection itself before the answer's head was whole: only its parser does that,
            // and it then tells of the close before the parse error.
            return true;
        }
        if (e.getCause() != null && !(e.getCause() instanceof IOException)) {
            return true;
        }
        String message = String.valueOf(e.getMessage());
        return message.startsWith(BAD_TRAILERS) || message.startsWith(BAD_CHUNK_SIZE);
    }

    private void answered(ClientExchange exchange) {
        if (done) {
            return;
        }
        phase = Phase.ANSWERED;
        ClientResponse response = exchange.getResponse();
        status = response.getResponseCode();
        if (status < 100 || status > 599 || !Protocols.HTTP_1_1.equals(response.getProtocol())
                && !Protocols.HTTP_1_0.equals(response.getProtocol())) {
            // Undertow's parser takes any first line; a model server must answer HTTP/1.x with a status.
            fail(UpstreamException.Kind.MALFORMED, "the answer's status line is not HTTP/1.1", null);
            return;
        }
        answerHeaders = new dev.modelgate.spi.Headers();
        for (HeaderValues values : response.getResponseHeaders()) {
            String name = values.getHeaderName().toString();
            for (String value : values) {
                answerHeaders.add(name, value);
            }
        }
        declared = declaredLength(response, exchange.getRequest().getMethod());
        if (declared > request.maxResponseBytes()) {
            // Refused before a byte of it is read.
            tooLarge();
            return;
        }
        answerChannel = exchange.getResponseChannel();
        if (status >= 200 && status < 300 && request.streamAboveBytes() != Integer.MAX_VALUE
                && (declared < 0 || declared > request.streamAboveBytes())) {
            AnswerStream stream = new AnswerStream(this);
            sink = stream;
            answerChannel.getReadSetter().set(channel -> feed());
            result.complete(new UpstreamAnswer(status, answerHeaders, declared, null, stream));
            feed();
        } else {
            whole = new byte[declared >= 0 ? (int) declared : 8192];
            answerChannel.getReadSetter().set(channel -> readWhole());
            readWhole();
        }
    }

    /** The body's length as Undertow frames it: none for HEAD, unknown when chunked or read to the close. */
    private static long declaredLength(ClientResponse response, HttpString method) {
        HeaderMap headers = response.getResponseHeaders();
        String encoding = headers.getLast(Headers.TRANSFER_ENCODING);
        if (Methods.HEAD.equals(method)) {
            return 0;
        }
        if (encoding != null && encoding.toLowerCase(java.util.Locale.ROOT).contains("chunked")) {
            return -1;
        }
        String length = headers.getFirst(Headers.CONTENT_LENGTH);
        if (length != null) {
            return Long.parseLong(length.trim());
        }
        return Protocols.HTTP_1_1.equals(response.getProtocol()) ? 0 : -1;
    }

    /** Reads as much of a whole body as has come; on the IO thread, as its reads are ready. */
    private void readWhole() {
        if (done) {
            return;
        }
        readBody(this::endWhole, (buffer, count) -> {
            if (received + count > request.maxResponseBytes()) {
                tooLarge();
                return false;
            }
            if (received + count > whole.length) {
                whole = Arrays.copyOf(whole, (int) Math.min(Math.max(whole.length * 2L, received + count),
                        request.maxResponseBytes()));
            }
            buffer.get(whole, (int) received, count);
            received += count;
            return true;
        });
    }

    /** What a body's reading does with each piece that came: {@code false} stops reading for now. */
    @FunctionalInterface
    private interface Pieces {
        boolean take(ByteBuffer buffer, int count);
    }

    /**
     * Reads what has come of the answer's body through one pooled buffer, each piece to {@code pieces}, until
     * nothing more is there (reads resume, and this runs again when more comes), {@code pieces} stops, or the body
     * ends ({@code ended}); a failed read breaks the call. On the IO thread.
     */
    private void readBody(Runnable ended, Pieces pieces) {
        try (PooledByteBuffer pooled = pool.buffers.allocate()) {
            ByteBuffer buffer = pooled.getBuffer();
            while (true) {
                buffer.clear();
                int count = read(buffer);
                if (count == 0) {
                    answerChannel.resumeReads();
                    return;
                }
                if (count < 0) {
                    answerChannel.suspendReads();
                    ended.run();
                    return;
                }
                buffer.flip();
                if (!pieces.take(buffer, count)) {
                    return;
                }
            }
        } catch (IOException e) {
            broke(e);
        }
    }

    private int read(ByteBuffer buffer) throws IOException {
        reading = true;
        try {
            return answerChannel.read(buffer);
        } finally {
            reading = false;
        }
    }

    private void endWhole() {
        if (declared >= 0 && received < declared) {
            fail(UpstreamException.Kind.BROKEN, "the connection closed before the whole answer came", null);
            return;
        }
        byte[] bytes = received == whole.length ? whole : Arrays.copyOf(whole, (int) received);
        end();
        result.complete(new UpstreamAnswer(status, answerHeaders, declared, bytes, null));
    }

    private void tooLarge() {
        fail(UpstreamException.Kind.TOO_LARGE, "the response is larger than the limit of "
                + request.maxResponseBytes() + " bytes", null);
    }

    /** Passes what came of a streamed body to its reader, until the reader's queue is full; on the IO thread. */
    private void feed() {
        if (done || paused) {
            return;
        }
        readBody(() -> {
            if (declared >= 0 && received < declared) {
                fail(UpstreamException.Kind.BROKEN, "the connection closed before the whole answer came", null);
            } else {
                end();
                sink.end();
            }
        }, (buffer, count) -> {
            received += count;
            if (received > request.maxResponseBytes()) {
                tooLarge();
                return false;
            }
            byte[] chunk = new byte[count];
            buffer.get(chunk);
            if (!sink.offer(chunk)) {
                pause();
                return false;
            }
            return true;
        });
    }

    private void pause() {
        answerChannel.suspendReads();
        paused = true;
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
        if (more && paused) {
            paused = false;
            feed();
        } else if (!more && !paused) {
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
        thread.execute(() -> {
            if (paused) {
                paused = false;
                feed();
            }
        });
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

    /** Closes the call's connection, whose callbacks, told of the close, then no longer speak for the call. */
    private void dropConnection() {
        IoUpstreamPool.Connection dropped = connection;
        connection = null;
        pool.drop(dropped);
    }

    /** The answer came whole: the connection goes back to the pool before anyone hears of the answer. */
    private void end() {
        done = true;
        stopTimers();
        IoUpstreamPool.Connection used = connection;
        connection = null;
        pool.release(used, thread);
    }

    /** Ends the call with {@code kind}; its connection, if any, is closed. On the call's thread. */
    void fail(UpstreamException.Kind kind, String message, Throwable cause) {
        if (done) {
            return;
        }
        done = true;
        stopTimers();
        if (connecting != null) {
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
        UpstreamException failure = new UpstreamException(kind, message, cause);
        if (sink != null) {
            sink.fail(failure);
        } else {
            result.completeExceptionally(failure);
        }
    }

    private void stopTimers() {
        cancel(timer);
        cancel(poolTimer);
        cancel(connectTimer);
        timer = null;
        poolTimer = null;
        connectTimer = null;
    }

    private static void cancel(XnioExecutor.Key key) {
        if (key != null) {
            key.remove();
        }
    }
}
