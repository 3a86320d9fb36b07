package dev.modelgate.kernel.upstream;

import dev.modelgate.spi.upstream.UpstreamAnswer;
import dev.modelgate.spi.upstream.UpstreamException;
import dev.modelgate.spi.upstream.UpstreamPool;
import dev.modelgate.spi.upstream.UpstreamRequest;
import dev.modelgate.spi.upstream.UpstreamSettings;
import io.undertow.UndertowOptions;
import io.undertow.connector.ByteBufferPool;
import io.undertow.connector.PooledByteBuffer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.net.URI;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.xnio.IoFuture;
import org.xnio.IoUtils;
import org.xnio.OptionMap;
import org.xnio.Options;
import org.xnio.StreamConnection;
import org.xnio.XnioExecutor;
import org.xnio.XnioIoThread;
import org.xnio.XnioWorker;
import org.xnio.ssl.XnioSsl;

/**
 * Keep-alive connections to one server, each owned by the IO thread it was opened on: a call takes an idle one of
 * its own thread, or opens one there, and every step of it (connect, send, read, timers) runs on that thread. Only
 * the counts that bound the pool are shared ({@link #open}, the queue of calls waiting for a connection).
 *
 * <p>A call made elsewhere (a virtual thread) runs on the pool's home IO thread. When the pool is full, calls wait in
 * a queue of their own thread's: a connection that frees goes straight to the first call waiting on its thread, and
 * only when none waits there while calls of another thread do is it closed, so that one of those can open one on its
 * own thread (cheaper than moving the call). Under a load spread over the IO threads, a full pool thus hands its
 * connections on rather than closing and opening them.
 *
 * <p>Idle connections expire after {@code idleTimeout} (a sweep per thread, while it has any) and are not reused
 * past {@code maxConnectionLifetime}; one the server closed is forgotten as it closes: an idle connection is read,
 * and closed, when the server closes it or sends what nobody asked for.
 */
final class IoUpstreamPool implements UpstreamPool {

    private static final System.Logger LOG = System.getLogger(IoUpstreamPool.class.getName());
    private static final AtomicInteger NEXT_HOME = new AtomicInteger();
    /**
     * How long a connection may sit idle and still be taken without reading it first: the idle read sees what a
     * server sends or closes meanwhile, but may not have run yet when a call takes the connection; after this long
     * the read is made first (servers close kept-alive connections after seconds, and what they close then is best
     * found before a request is lost on it).
     */
    private static final long TRUSTED_IDLE_NANOS = TimeUnit.SECONDS.toNanos(1);
    /** Requests go out whole, in one write each: Nagle's delay would only hold back a request written in parts. */
    private static final OptionMap PLAIN = OptionMap.create(Options.TCP_NODELAY, true);
    /**
     * The handshake starts when the connection opens, before the request is written, and verifies that the
     * certificate names the server called (RFC 2818's endpoint identification), as Undertow's client did.
     */
    private static final OptionMap TLS = OptionMap.builder().set(Options.TCP_NODELAY, true)
            .set(Options.SSL_STARTTLS, true).set(UndertowOptions.ENDPOINT_IDENTIFICATION_ALGORITHM, "HTTPS").getMap();

    private final String host;
    private final int port;
    /** The server's address when its URL names it by IP, else {@code null} (looked up at each connect). */
    private final InetSocketAddress literal;
    final String hostHeader;
    final UpstreamSettings settings;
    private final Supplier<XnioWorker> worker;
    final ByteBufferPool buffers;
    private final XnioSsl tls;
    /** Connections open or being opened: at most {@code maxConnections}. */
    private final AtomicInteger open = new AtomicInteger();
    private final AtomicInteger leased = new AtomicInteger();
    private final AtomicInteger idle = new AtomicInteger();
    /** Calls waiting for a connection, on every thread. */
    private final AtomicInteger pending = new AtomicInteger();
    private final ConcurrentHashMap<XnioIoThread, ThreadConnections> byThread = new ConcurrentHashMap<>();
    private volatile boolean closed;
    private volatile XnioIoThread home;

    /** @param tls how TLS connections are made, or {@code null} for plain ones */
    IoUpstreamPool(URI server, UpstreamSettings settings, Supplier<XnioWorker> worker, ByteBufferPool buffers,
            XnioSsl tls) {
        this.port = server.getPort() > 0 ? server.getPort() : tls != null ? 443 : 80;
        this.host = server.getHost();
        this.literal = literal(host, port);
        this.hostHeader = server.getPort() > 0 ? server.getHost() + ":" + port : server.getHost();
        this.settings = settings;
        this.worker = worker;
        this.buffers = buffers;
        this.tls = tls;
    }

    @Override
    public CompletionStage<UpstreamAnswer> send(UpstreamRequest request) {
        XnioWorker ioThreads = worker.get();
        if (closed || ioThreads == null) {
            return CompletableFuture.failedFuture(new UpstreamException(UpstreamException.Kind.CLOSED,
                    closed ? "the connection pool is closed" : "the gateway's IO threads are not running", null));
        }
        XnioIoThread own = Thread.currentThread() instanceof XnioIoThread current && current.getWorker() == ioThreads
                ? current : null;
        UpstreamCall call = new UpstreamCall(this, request, own != null ? own : home(ioThreads));
        if (own != null) {
            call.start();
        } else {
            call.thread.execute(call::start);
        }
        return call.result;
    }

    /**
     * The IO thread that serves the calls made elsewhere (virtual threads): one per pool, so that their connections
     * are one thread's and are reused by the next such call, rather than spread over threads where a call finds none
     * idle while another thread has some. Pools take the IO threads in turn.
     */
    private XnioIoThread home(XnioWorker ioThreads) {
        XnioIoThread chosen = home;
        if (chosen == null || chosen.getWorker() != ioThreads) {
            chosen = ioThreads.getIoThread(NEXT_HOME.getAndIncrement() & Integer.MAX_VALUE);
            home = chosen;
        }
        return chosen;
    }

    boolean closed() {
        return closed;
    }

    /** Whether its connections are TLS ones. */
    boolean tls() {
        return tls != null;
    }

    /** An open idle connection of {@code thread} fit for another call, or {@code null}; on {@code thread}. */
    Connection takeIdle(XnioIoThread thread) {
        ThreadConnections mine = byThread.get(thread);
        if (mine == null) {
            return null;
        }
        long now = System.nanoTime();
        Connection found;
        while ((found = mine.idle.pollFirst()) != null) {
            found.idle = false;
            idle.decrementAndGet();
            if (found.connection.isOpen() && !found.expired(now)
                    && (!found.mayHoldMore && now - found.idleSince < TRUSTED_IDLE_NANOS || found.quiet())) {
                leased.incrementAndGet();
                return found;
            }
            discard(found);
        }
        return null;
    }

    /** Where the calls of {@code thread} are timed; on {@code thread}. */
    Deadlines deadlines(XnioIoThread thread) {
        return byThread.computeIfAbsent(thread, ThreadConnections::new).deadlines;
    }

    /** Counts a connection about to be opened on {@code thread}, unless the pool is full. On that thread. */
    boolean reserve(XnioIoThread thread) {
        int count;
        do {
            count = open.get();
            if (count >= settings.maxConnections()) {
                return false;
            }
        } while (!open.compareAndSet(count, count + 1));
        byThread.computeIfAbsent(thread, ThreadConnections::new).held.incrementAndGet();
        return true;
    }

    /**
     * Starts opening a connection on {@code thread}, counted already ({@link #reserve}): the future gives it, to be
     * made the pool's with {@link #opened}, or why it failed.
     */
    IoFuture<? extends StreamConnection> connect(XnioIoThread thread, InetSocketAddress address) {
        return tls == null ? thread.openStreamConnection(address, null, PLAIN)
                : tls.openSslConnection(thread, address, null, TLS);
    }

    /**
     * The server's address, given to {@code then} on {@code thread}: at once for an IP literal, else once a virtual
     * thread has looked the name up (the JDK keeps answers for 30 seconds). A lookup blocks, for as long as the
     * resolver takes: on the IO thread it held every connection of that thread meanwhile. The address keeps the
     * name, which TLS checks the certificate against and sends as SNI.
     */
    void resolve(XnioIoThread thread, Consumer<InetSocketAddress> then, Consumer<UnknownHostException> unknown) {
        if (literal != null) {
            then.accept(literal);
            return;
        }
        Thread.ofVirtual().name("resolve " + host).start(() -> {
            Runnable answer;
            try {
                InetSocketAddress address = new InetSocketAddress(InetAddress.getByName(host), port);
                answer = () -> then.accept(address);
            } catch (UnknownHostException e) {
                answer = () -> unknown.accept(e);
            }
            try {
                thread.execute(answer);
            } catch (RejectedExecutionException stopped) {
                // The IO thread stopped (the gateway is stopping): its calls went with it.
            }
        });
    }

    /** {@code host} as an address when it is an IP literal, which takes no lookup; else {@code null}. */
    private static InetSocketAddress literal(String host, int port) {
        boolean ipv4 = !host.isEmpty() && host.chars().allMatch(c -> c == '.' || c >= '0' && c <= '9');
        if (!ipv4 && !host.startsWith("[")) {
            return null;
        }
        try {
            return new InetSocketAddress(InetAddress.getByName(host), port);
        } catch (UnknownHostException e) {
            return null; // not a literal after all (a name made of digits): looked up as a name
        }
    }

    /**
     * A connection just opened for a call, leased to it; forgotten, and its count freed, when it closes. It is read
     * whenever bytes come: for its call while it has one, else to see the server close it.
     */
    Connection opened(StreamConnection connection) {
        Connection made = new Connection(connection, System.nanoTime());
        leased.incrementAndGet();
        connection.setCloseListener(closing -> forget(made));
        connection.getSourceChannel().getReadSetter().set(channel -> made.readable());
        connection.getSinkChannel().getWriteSetter().set(channel -> {
            if (made.call != null) {
                made.call.writable();
            }
        });
        connection.getSourceChannel().resumeReads();
        return made;
    }

    /** A connection reserved on {@code thread} could not be opened: frees its count. On that thread. */
    void unreserve(XnioIoThread thread) {
        byThread.get(thread).held.decrementAndGet();
        open.decrementAndGet();
        wakeWaiting();
    }

    /**
     * A call is done with {@code used}, which it read to the end of an answer: kept idle on its thread when it may
     * serve again, else closed. On the connection's thread.
     */
    void release(Connection used, XnioIoThread thread) {
        leased.decrementAndGet();
        long now = System.nanoTime();
        boolean reusable = !closed && used.connection.isOpen() && !used.expired(now);
        ThreadConnections mine = byThread.computeIfAbsent(thread, ThreadConnections::new);
        if (reusable && !mine.waiters.isEmpty() && !holdsMoreThanItsShare(mine)
                && (!used.mayHoldMore || used.quiet())) {
            leased.incrementAndGet();
            mine.nextWaiter(this).takeOver(used);
            return;
        }
        if (!reusable || pending.get() > 0) {
            // Closing frees the count, and with it a call waiting on another thread (the one holding fewest).
            discard(used);
            return;
        }
        used.idle = true;
        used.idleSince = now;
        idle.incrementAndGet();
        mine.idle.addFirst(used);
        mine.sweepLater(this);
    }

    /** A call gives up {@code used} midway: the connection is closed, never drained. */
    void drop(Connection used) {
        leased.decrementAndGet();
        discard(used);
    }

    /** Closes {@code gone} and forgets it at once. */
    private void discard(Connection gone) {
        forget(gone);
        IoUtils.safeClose(gone.connection);
    }

    /** {@code gone} closed: it counts no more, and a waiting call may open another; once. On its thread. */
    private void forget(Connection gone) {
        if (gone.forgotten) {
            return;
        }
        gone.forgotten = true;
        ThreadConnections owner = byThread.get(gone.connection.getIoThread());
        if (gone.idle) {
            gone.idle = false;
            idle.decrementAndGet();
            owner.idle.remove(gone);
        }
        owner.held.decrementAndGet();
        open.decrementAndGet();
        wakeWaiting();
    }

    /**
     * Queues a call, on its thread, until a connection of that thread frees (it then takes it over) or a count does
     * (it then tries again).
     */
    void await(UpstreamCall call) {
        ThreadConnections mine = byThread.computeIfAbsent(call.thread, ThreadConnections::new);
        mine.waiters.addLast(call);
        mine.waiting.incrementAndGet();
        pending.incrementAndGet();
        if (open.get() < settings.maxConnections() || closed) {
            // A connection closed between the caller's reserve and its queueing: nobody else would wake it.
            wakeWaiting();
        } else if (idle.get() > 0) {
            closeIdleElsewhere(call.thread);
        }
    }

    /**
     * The pool is full while other threads keep idle connections a waiting call of {@code waiter} cannot use: each
     * of them closes one, which frees its count for that call.
     */
    private void closeIdleElsewhere(XnioIoThread waiter) {
        for (ThreadConnections each : byThread.values()) {
            if (each.thread != waiter) {
                onThread(each.thread, () -> {
                    Connection spare = each.idle.peekLast();
                    if (spare != null) {
                        discard(spare);
                    }
                });
            }
        }
    }

    /** Takes {@code call} off its thread's queue; whether it was there. On its thread. */
    boolean stopWaiting(UpstreamCall call) {
        ThreadConnections mine = byThread.get(call.thread);
        if (mine != null && mine.waiters.remove(call)) {
            mine.waiting.decrementAndGet();
            pending.decrementAndGet();
            return true;
        }
        return false;
    }

    /**
     * Whether another thread's calls wait while it holds at least two connections fewer than {@code mine}: the
     * connection {@code mine} frees is then closed for them, although its own calls wait too. Without this, a thread
     * whose calls always wait keeps every connection it has, and another one holding few or none waits for its
     * pool timeout (at 256 clients over 4 IO threads and a pool of 64, p99 went from 15 ms to 360 ms, and calls
     * failed as pool exhausted). Within one of each other the shares stand, so a balanced pool reopens nothing.
     */
    private boolean holdsMoreThanItsShare(ThreadConnections mine) {
        int held = mine.held.get();
        for (ThreadConnections each : byThread.values()) {
            if (each != mine && each.waiting.get() > 0 && each.held.get() < held - 1) {
                return true;
            }
        }
        return false;
    }

    /**
     * A count freed: lets the first call waiting on the thread holding the fewest connections of those with calls
     * waiting try again, on that thread. Should that call have gone meanwhile, the threads are asked again.
     */
    void wakeWaiting() {
        ThreadConnections neediest = null;
        for (ThreadConnections each : byThread.values()) {
            if (each.waiting.get() > 0 && (neediest == null || each.held.get() < neediest.held.get())) {
                neediest = each;
            }
        }
        if (neediest != null) {
            ThreadConnections chosen = neediest;
            onThread(chosen.thread, () -> {
                if (chosen.waiters.isEmpty()) {
                    wakeWaiting();
                } else {
                    chosen.nextWaiter(this).acquire();
                }
            });
        }
    }

    /** Closes the idle connections of {@code mine} past their time; on its thread. */
    void sweep(ThreadConnections mine) {
        long now = System.nanoTime();
        List<Connection> expired = new ArrayList<>();
        for (Connection each : mine.idle) {
            if (each.expired(now)) {
                expired.add(each);
            }
        }
        for (Connection each : expired) {
            discard(each);
        }
        if (!mine.idle.isEmpty()) {
            mine.sweepLater(this);
        }
    }

    @Override
    public int leased() {
        return leased.get();
    }

    @Override
    public int available() {
        return idle.get();
    }

    @Override
    public int pending() {
        return pending.get();
    }

    @Override
    public void close() {
        closed = true;
        for (ThreadConnections mine : byThread.values()) {
            onThread(mine.thread, () -> {
                for (Connection each : new ArrayList<>(mine.idle)) {
                    discard(each);
                }
            });
        }
        for (ThreadConnections mine : byThread.values()) {
            onThread(mine.thread, () -> {
                while (!mine.waiters.isEmpty()) {
                    mine.nextWaiter(this).fail(UpstreamException.Kind.CLOSED, "the connection pool is closed", null);
                }
            });
        }
    }

    /** Runs {@code task} on {@code thread}, unless the gateway stopped it: its connections then closed with it. */
    private static void onThread(XnioIoThread thread, Runnable task) {
        try {
            thread.execute(task);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            // The worker is shutting down, and closes every connection itself.
        }
    }

    /** A pooled connection; its fields are its thread's. */
    final class Connection {
        final StreamConnection connection;
        final AnswerParser parser = new AnswerParser();
        final RequestWriter writer = new RequestWriter(buffers);
        /** The call it serves, or {@code null} while idle. */
        UpstreamCall call;
        private final long openedAt;
        private long idleSince;
        private boolean idle;
        private boolean forgotten;
        /** Whether it served a call before the one it serves now. */
        boolean reused;
        /**
         * Whether the read that brought the last answer's end filled its buffer, or came through TLS (which may hold
         * decrypted bytes back): more may wait in the socket, so it is read once before another call takes it.
         * Otherwise the socket was empty when the answer ended, and what comes later the idle read sees: reading
         * every connection before reuse cost one more {@code read()} per call.
         */
        boolean mayHoldMore;

        private Connection(StreamConnection connection, long openedAt) {
            this.connection = connection;
            this.openedAt = openedAt;
        }

        /** Bytes came, or the server closed it: its call's, else a sign that an idle connection is done. */
        private void readable() {
            if (call != null) {
                UpstreamCall reading = call;
                try {
                    reading.readable();
                } catch (RuntimeException e) {
                    // A defect in reading must not leave the call to its deadline, which a stream's may not have.
                    LOG.log(System.Logger.Level.ERROR, "reading an answer from " + hostHeader + " failed", e);
                    reading.fail(UpstreamException.Kind.BROKEN, "reading the answer failed", e);
                }
            } else if (!quiet()) {
                discard(this);
            }
        }

        /**
         * Whether the server has neither sent anything since the last answer nor closed the connection: asked before
         * it serves another call when bytes may be there already (an answer nobody asked for would be taken for that
         * call's answer) and the idle read that would see them may not have run yet.
         */
        private boolean quiet() {
            try (PooledByteBuffer pooled = buffers.allocate()) {
                return connection.getSourceChannel().read(pooled.getBuffer()) == 0;
            } catch (IOException e) {
                // Reset by the server.
                return false;
            }
        }

        private boolean expired(long now) {
            return now - openedAt >= settings.maxConnectionLifetime().toNanos()
                    || idle && now - idleSince >= settings.idleTimeout().toNanos();
        }
    }

    /** The connections and waiting calls of one IO thread; its deques touched on that thread only. */
    static final class ThreadConnections {
        final XnioIoThread thread;
        final ArrayDeque<Connection> idle = new ArrayDeque<>();
        /** The thread's calls waiting for a connection, first come first. */
        final ArrayDeque<UpstreamCall> waiters = new ArrayDeque<>();
        /** How many there are, for other threads to read. */
        final AtomicInteger waiting = new AtomicInteger();
        /** The pool's connections of this thread, open or being opened, for other threads to read. */
        final AtomicInteger held = new AtomicInteger();
        private XnioExecutor.Key sweep;
        /** The deadlines of the thread's calls. */
        final Deadlines deadlines;

        ThreadConnections(XnioIoThread thread) {
            this.thread = thread;
            this.deadlines = new Deadlines(thread);
        }

        /** Takes the first waiting call off the queue. */
        UpstreamCall nextWaiter(IoUpstreamPool pool) {
            waiting.decrementAndGet();
            pool.pending.decrementAndGet();
            return waiters.pollFirst();
        }

        /** Schedules a sweep unless one is due. */
        void sweepLater(IoUpstreamPool pool) {
            if (sweep == null) {
                long every = Math.min(pool.settings.idleTimeout().toNanos(),
                        pool.settings.maxConnectionLifetime().toNanos());
                sweep = thread.executeAfter(() -> {
                    sweep = null;
                    pool.sweep(this);
                }, Math.max(every, TimeUnit.MILLISECONDS.toNanos(1)), TimeUnit.NANOSECONDS);
            }
        }
    }
}
