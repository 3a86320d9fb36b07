package dev.modelgate.kernel;

import dev.modelgate.spi.Response;
import io.undertow.connector.ByteBufferPool;
import io.undertow.connector.PooledByteBuffer;
import io.undertow.server.AbstractServerConnection;
import io.undertow.server.ConnectorStatistics;
import io.undertow.server.DelegateOpenListener;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.server.protocol.http.HttpOpenListener;
import io.undertow.util.AttachmentKey;
import io.undertow.util.StatusCodes;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.BiFunction;
import java.util.function.Supplier;
import org.xnio.IoUtils;
import org.xnio.OptionMap;
import org.xnio.StreamConnection;
import org.xnio.channels.StreamSinkChannel;
import org.xnio.conduits.AbstractStreamSourceConduit;
import org.xnio.conduits.ConduitReadableByteChannel;
import org.xnio.conduits.Conduits;
import org.xnio.conduits.ReadReadyHandler;
import org.xnio.conduits.StreamSinkConduit;
import org.xnio.conduits.StreamSourceConduit;

/**
 * Undertow's HTTP/1.1 listener with {@link Http1Framing} in front of its parser. Undertow's parser is lenient
 * (several {@code Transfer-Encoding} lists, whitespace and control characters in header lines) and answers what it does
 * refuse with a bare 400, so every byte is checked here first: Undertow sees only valid messages, and never a byte of
 * the next request before the current one is served.
 *
 * <p>A refused message is answered here, with the front's error body, {@code Connection: close}, and a lingering close
 * (the rest of what the client sends is read and dropped for a moment, so that closing does not reset the connection
 * and destroy the answer on its way).
 */
final class StrictHttp1 implements DelegateOpenListener {

    private static final System.Logger LOG = System.getLogger(StrictHttp1.class.getName());
    /** How long a refused client may go on sending before the connection is closed anyway. */
    private static final long LINGER_MILLIS = 2000;
    private static final int READ_BUFFER = 8192;

    /** Bytes a client may pipeline behind a request in service before its connection is no longer watched. */
    private static final int MAX_WATCHED_BYTES = 64 * 1024;
    /** The connection's checked source, attached to Undertow's connection at its first request. */
    private static final AttachmentKey<CheckedSource> SOURCE = AttachmentKey.create(CheckedSource.class);

    private final HttpOpenListener undertow;
    private final Supplier<Http1Framing.Limits> limits;
    private final BiFunction<Refusal, String, Response> answers;
    /**
     * The checked sources of connections that have not had a request yet: Undertow makes its connection object only
     * inside its open listener, so the source is handed over at the first request. Kept by connection, dropped then,
     * or when the connection ends before any request (closed ones are swept each time the map doubles).
     */
    private final Map<StreamConnection, CheckedSource> awaitingFirstRequest = new ConcurrentHashMap<>();

    /**
     * @param answers the answer to a refusal, given the request target read so far (which picks the front)
     */
    StrictHttp1(HttpOpenListener undertow, Supplier<Http1Framing.Limits> limits,
            BiFunction<Refusal, String, Response> answers) {
        this.undertow = undertow;
        this.limits = limits;
        this.answers = answers;
        setRootHandler(undertow.getRootHandler());
    }

    /**
     * Runs {@code gone} once, on an IO thread, if the client of {@code http} closes or resets its connection before
     * the exchange completes: while the request is served, the connection is read for its end (what a client
     * pipelines meanwhile is kept for Undertow, up to {@value #MAX_WATCHED_BYTES} bytes, beyond which it is no longer
     * watched). A half-close counts as gone, as it does for nginx. Never runs for a request on another protocol.
     */
    static void whenClientGone(HttpServerExchange http, Runnable gone) {
        CheckedSource source = http.getConnection().getAttachment(SOURCE);
        if (source != null) {
            source.connection.getIoThread().execute(() -> source.watch(http, gone));
        }
    }

    @Override
    public void handleEvent(StreamConnection connection) {
        handleEvent(connection, null);
    }

    @Override
    public void handleEvent(StreamConnection connection, PooledByteBuffer alreadyRead) {
        ResponseStarts responses = new ResponseStarts(connection.getSinkChannel().getConduit());
        connection.getSinkChannel().setConduit(responses);
        CheckedSource source = new CheckedSource(connection, new Http1Framing(limits.get()), responses);
        if (alreadyRead != null) {
            try {
                source.pushBack(alreadyRead.getBuffer());
            } finally {
                alreadyRead.close();
            }
        }
        connection.getSourceChannel().setConduit(source);
        awaitingFirstRequest.put(connection, source);
        int waiting = awaitingFirstRequest.size();
        if (waiting >= 64 && Integer.bitCount(waiting) == 1) {
            awaitingFirstRequest.keySet().removeIf(open -> !open.isOpen());
        }
        undertow.handleEvent(connection, null);
    }

    @Override
    public HttpHandler getRootHandler() {
        return undertow.getRootHandler();
    }

    /** Sets {@code rootHandler} behind the hand-over of each connection's checked source at its first request. */
    @Override
    public void setRootHandler(HttpHandler rootHandler) {
        undertow.setRootHandler(http -> {
            CheckedSource source = http.getConnection() instanceof AbstractServerConnection http1
                    ? awaitingFirstRequest.remove(http1.getChannel()) : null;
            if (source != null) {
                http.getConnection().putAttachment(SOURCE, source);
            }
            rootHandler.handleRequest(http);
        });
    }

    @Override
    public OptionMap getUndertowOptions() {
        return undertow.getUndertowOptions();
    }

    @Override
    public void setUndertowOptions(OptionMap undertowOptions) {
        undertow.setUndertowOptions(undertowOptions);
    }

    @Override
    public ByteBufferPool getBufferPool() {
        return undertow.getBufferPool();
    }

    @Override
    public ConnectorStatistics getConnectorStatistics() {
        return undertow.getConnectorStatistics();
    }

    @Override
    public void closeConnections() {
        undertow.closeConnections();
    }

    /** The whole answer to a refusal, as bytes on the wire. */
    private static byte[] wire(Response response) {
        byte[] body = response.body().bytes();
        StringBuilder head = new StringBuilder(256).append("HTTP/1.1 ").append(response.status()).append(' ')
                .append(StatusCodes.getReason(response.status())).append("\r\n");
        response.forEachHeader((name, value) -> head.append(name).append(": ").append(value).append("\r\n"));
        head.append("Content-Length: ").append(body.length).append("\r\nConnection: close\r\n\r\n");
        byte[] headBytes = head.toString().getBytes(StandardCharsets.ISO_8859_1);
        byte[] all = new byte[headBytes.length + body.length];
        System.arraycopy(headBytes, 0, all, 0, headBytes.length);
        System.arraycopy(body, 0, all, headBytes.length, body.length);
        return all;
    }

    /**
     * The connection's bytes as Undertow reads them: checked by {@link Http1Framing}, cut at the end of each message,
     * and, once a message is refused, no more of them.
     */
    private final class CheckedSource extends AbstractStreamSourceConduit<StreamSourceConduit> {

        private final StreamConnection connection;
        private final Http1Framing framing;
        private final ResponseStarts responses;
        /** Bytes read from the socket and not yet handed over, in read mode; {@code null} when there are none. */
        private ByteBuffer pending;
        private boolean refused;
        /** Where what a refused client still sends goes. */
        private ByteBuffer dropped;
        /** The exchange whose client is watched for going away, or {@code null}; IO thread only. */
        private HttpServerExchange watched;
        private final List<Runnable> goneListeners = new ArrayList<>(1);
        /** Whether the client's end of the connection was read (or it broke) while a request was served. */
        private boolean ended;
        /**
         * Whether Undertow wants the connection's reads. Its suspensions are lazy: the socket stays in the selector
         * and is taken out only when an event comes that nobody wants (see {@link ReadsWhenWanted}). Undertow
         * suspends reads for every request it serves and resumes them after it, which on the socket is an
         * {@code epoll_ctl} each way, per request, for a client that sends nothing meanwhile.
         */
        private boolean readsWanted;
        private final ReadsWhenWanted readsWhenWanted = new ReadsWhenWanted();

        CheckedSource(StreamConnection connection, Http1Framing framing, ResponseStarts responses) {
            super(connection.getSourceChannel().getConduit());
            this.connection = connection;
            this.framing = framing;
            this.responses = responses;
        }

        void pushBack(ByteBuffer bytes) {
            pending = ByteBuffer.allocate(bytes.remaining()).put(bytes).flip();
        }

        private boolean hasPending() {
            return pending != null && pending.hasRemaining();
        }

        /**
         * Reads into Undertow's buffer and checks the new bytes there: only bytes past the end of a message (a
         * pipelined next request) are copied aside, to be handed over when Undertow asks for the next one.
         */
        @Override
        public int read(ByteBuffer dst) throws IOException {
            if (refused) {
                return discard();
            }
            if (ended && !hasPending()) {
                return -1;
            }
            if (!dst.hasRemaining()) {
                return 0;
            }
            int start = dst.position();
            int read;
            if (hasPending()) {
                read = Math.min(pending.remaining(), dst.remaining());
                dst.put(pending.slice(pending.position(), read));
                pending.position(pending.position() + read);
            } else {
                read = next.read(dst);
                if (read < 0) {
                    awaitingFirstRequest.remove(connection);
                }
                if (read <= 0) {
                    return read;
                }
            }
            boolean inHead = !framing.inBody();
            int valid = framing.scan(dst.duplicate().position(start).limit(start + read), read);
            if (framing.refusal() != null) {
                dst.position(start);
                refuse();
                return 0;
            }
            if (valid < read) {
                keepForLater(dst, start + valid, read - valid);
            }
            if (inHead && (framing.inBody() || framing.betweenMessages())) {
                responses.headHandedOver();
            }
            return valid;
        }

        /**
         * Starts watching for the client's end while {@code http} is served, on the IO thread: reads are resumed
         * beneath Undertow's request conduits (which, their body read, have nothing to say), and whatever arrives is
         * kept for Undertow to read as the next request.
         */
        void watch(HttpServerExchange http, Runnable gone) {
            if (http.isComplete() || ended) {
                return;
            }
            goneListeners.add(gone);
            if (watched == http) {
                return;
            }
            watched = http;
            http.addExchangeCompleteListener((exchange, next) -> {
                stopWatching();
                next.proceed();
            });
            connection.getSourceChannel().getReadSetter().set(channel -> readWhileWatched());
            this.next.resumeReads();
        }

        private void stopWatching() {
            watched = null;
            goneListeners.clear();
        }

        private void readWhileWatched() {
            if (watched == null) {
                return;
            }
            ByteBuffer into = ByteBuffer.allocate(READ_BUFFER);
            int read;
            try {
                read = next.read(into);
            } catch (IOException e) {
                read = -1;
            }
            if (read > 0) {
                into.flip();
                ByteBuffer kept = ByteBuffer.allocate(into.remaining() + (hasPending() ? pending.remaining() : 0));
                if (hasPending()) {
                    kept.put(pending);
                }
                pending = kept.put(into).flip();
                if (pending.remaining() > MAX_WATCHED_BYTES) {
                    next.suspendReads();
                    stopWatching();
                }
                return;
            }
            if (read < 0) {
                ended = true;
                next.suspendReads();
                List<Runnable> listeners = List.copyOf(goneListeners);
                stopWatching();
                for (Runnable listener : listeners) {
                    try {
                        listener.run();
                    } catch (RuntimeException e) {
                        LOG.log(System.Logger.Level.ERROR, "a listener for a client going away failed", e);
                    }
                }
            }
        }

        /** Takes {@code length} bytes at {@code from} back out of {@code dst}, ahead of any kept already. */
        private void keepForLater(ByteBuffer dst, int from, int length) {
            ByteBuffer kept = ByteBuffer.allocate(length + (hasPending() ? pending.remaining() : 0));
            kept.put(dst.duplicate().position(from).limit(from + length));
            if (hasPending()) {
                kept.put(pending);
            }
            pending = kept.flip();
            dst.position(from);
        }

        @Override
        public long read(ByteBuffer[] dsts, int offs, int len) throws IOException {
            for (int i = offs; i < offs + len; i++) {
                if (dsts[i].hasRemaining()) {
                    return read(dsts[i]);
                }
            }
            return 0;
        }

        @Override
        public long transferTo(long position, long count, FileChannel target) throws IOException {
            return target.transferFrom(new ConduitReadableByteChannel(this), position, count);
        }

        @Override
        public long transferTo(long count, ByteBuffer throughBuffer, StreamSinkChannel target) throws IOException {
            return Conduits.transfer(this, count, throughBuffer, target);
        }

        @Override
        public void resumeReads() {
            readsWanted = true;
            // Bytes already here raise no event from the socket: wake the reader up for them.
            if (hasPending() && !refused) {
                next.wakeupReads();
            } else {
                next.resumeReads();
            }
        }

        @Override
        public void wakeupReads() {
            readsWanted = true;
            next.wakeupReads();
        }

        @Override
        public void suspendReads() {
            readsWanted = false;
        }

        @Override
        public boolean isReadResumed() {
            return readsWanted;
        }

        @Override
        public void setReadReadyHandler(ReadReadyHandler handler) {
            readsWhenWanted.handler = handler;
            next.setReadReadyHandler(readsWhenWanted);
        }

        @Override
        public void awaitReadable() throws IOException {
            if (!hasPending()) {
                next.awaitReadable();
            }
        }

        @Override
        public void awaitReadable(long time, TimeUnit timeUnit) throws IOException {
            if (!hasPending()) {
                next.awaitReadable(time, timeUnit);
            }
        }

        /**
         * Answers the refused message and closes: at once when no response began since its head (a refused head,
         * or a chunked body refused while its request waits for it), else the client already has an answer and the
         * connection just closes.
         */
        private void refuse() {
            refused = true;
            awaitingFirstRequest.remove(connection);
            Refusal refusal = framing.refusal();
            LOG.log(System.Logger.Level.DEBUG, () -> "refused a request from " + connection.getPeerAddress() + ": "
                    + refusal.errorCode().code() + " " + refusal.detail());
            connection.getIoThread().executeAfter(() -> IoUtils.safeClose(connection), LINGER_MILLIS,
                    TimeUnit.MILLISECONDS);
            if (framing.inBody() && responses.started()) {
                IoUtils.safeClose(connection);
                return;
            }
            ByteBuffer answer = ByteBuffer.wrap(wire(answers.apply(refusal, framing.target())));
            writeAndShutdown(answer, System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(LINGER_MILLIS));
        }

        /** Writes the answer beneath Undertow's conduits, then half-closes; retried briefly when the socket is full. */
        private void writeAndShutdown(ByteBuffer answer, long deadline) {
            StreamSinkConduit wire = responses.wire();
            try {
                while (answer.hasRemaining() && wire.write(answer) > 0) {
                    // written
                }
                if (!answer.hasRemaining()) {
                    wire.terminateWrites();
                    if (wire.flush()) {
                        discard();
                        return;
                    }
                }
                if (System.nanoTime() < deadline) {
                    connection.getIoThread().executeAfter(() -> flushLater(answer, deadline), 10,
                            TimeUnit.MILLISECONDS);
                }
            } catch (IOException e) {
                IoUtils.safeClose(connection);
            }
        }

        private void flushLater(ByteBuffer answer, long deadline) {
            if (!answer.hasRemaining()) {
                try {
                    if (!responses.wire().flush() && System.nanoTime() < deadline) {
                        connection.getIoThread().executeAfter(() -> flushLater(answer, deadline), 10,
                                TimeUnit.MILLISECONDS);
                    }
                } catch (IOException e) {
                    IoUtils.safeClose(connection);
                }
                return;
            }
            writeAndShutdown(answer, deadline);
        }

        /**
         * Passes the socket's read events on while someone wants them: Undertow, the watch for the client going
         * away, or the draining of a refused client. One that comes unwanted suspends reads on the socket for real.
         */
        private final class ReadsWhenWanted implements ReadReadyHandler {
            private ReadReadyHandler handler;

            @Override
            public void readReady() {
                if (readsWanted || watched != null || refused) {
                    handler.readReady();
                } else {
                    next.suspendReads();
                }
            }

            @Override
            public void forceTermination() {
                handler.forceTermination();
            }

            @Override
            public void terminated() {
                handler.terminated();
            }
        }

        /** Drops what the refused client still sends; closes when it closes its side. */
        private int discard() throws IOException {
            if (dropped == null) {
                dropped = ByteBuffer.allocate(READ_BUFFER);
            }
            pending = null;
            int read;
            do {
                dropped.clear();
                read = next.read(dropped);
            } while (read > 0);
            if (read < 0) {
                IoUtils.safeClose(connection);
                return -1;
            }
            next.resumeReads();
            return 0;
        }
    }
}
