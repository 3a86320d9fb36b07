package dev.modelgate.kernel.upstream;

import static dev.modelgate.kernel.upstream.UpstreamCalls.GENEROUS;
import static dev.modelgate.kernel.upstream.UpstreamCalls.failure;
import static dev.modelgate.kernel.upstream.UpstreamCalls.get;
import static dev.modelgate.kernel.upstream.UpstreamCalls.join;
import static dev.modelgate.kernel.upstream.UpstreamCalls.on;
import static dev.modelgate.kernel.upstream.UpstreamCalls.post;
import static dev.modelgate.kernel.upstream.UpstreamCalls.settings;
import static dev.modelgate.kernel.upstream.UpstreamCalls.write;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.modelgate.kernel.testing.Await;
import dev.modelgate.kernel.testing.IoThreads;
import dev.modelgate.kernel.testing.RawHttp;
import dev.modelgate.kernel.testing.ScriptedServer;
import dev.modelgate.kernel.testing.TestBackend;
import dev.modelgate.spi.Headers;
import dev.modelgate.spi.upstream.UpstreamAnswer;
import dev.modelgate.spi.upstream.UpstreamException;
import dev.modelgate.spi.upstream.UpstreamPool;
import dev.modelgate.spi.upstream.UpstreamRequest;
import dev.modelgate.spi.upstream.UpstreamSettings;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executors;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.xnio.XnioIoThread;
import org.xnio.XnioWorker;

/**
 * The upstream pools against real servers on loopback: a well-behaved HTTP server, and raw sockets that misbehave as
 * model servers do (closing kept-alive connections, breaking off, stalling, sending garbage or too much).
 */
class IoUpstreamPoolTest {

    private final IoThreads io = new IoThreads();
    private final XnioWorker worker = io.worker();
    private final IoUpstreamHttp upstream = io.upstream();

    @AfterEach
    void stop() throws Exception {
        io.close();
    }

    @Test
    void readsAnAnswerWholeAndReusesItsConnection() throws Exception {
        TestBackend backend = track(TestBackend.start(request -> TestBackend.Reply.json(200,
                "{\"echo\":\"" + request.bodyText() + "\"}")));
        UpstreamPool pool = pool(backend.port(), settings(4, Duration.ofSeconds(1)));

        XnioIoThread ioThread = worker.getIoThread();
        for (int i = 0; i < 3; i++) {
            String body = "hello" + i;
            UpstreamAnswer answer = join(on(ioThread, () -> pool.send(post("/v1/models/m:predict", body))));
            assertEquals(200, answer.status());
            assertEquals("{\"echo\":\"hello" + i + "\"}", new String(answer.bytes(), StandardCharsets.UTF_8));
            assertEquals(answer.bytes().length, answer.declaredLength());
            assertEquals("application/json", answer.headers().first("Content-Type"));
            assertNull(answer.stream());
        }
        assertEquals("/v1/models/m:predict", backend.lastRequest().path());
        assertEquals("127.0.0.1:" + backend.port(), backend.lastRequest().headers().first("Host"));
        assertEquals("yes", backend.lastRequest().headers().first("X-Test"));
        assertNull(backend.lastRequest().headers().first("X-Forwarded-Proto"), "only the headers given are sent");
        assertEquals(1, backend.distinctConnections(), "one kept-alive connection serves the IO thread's calls");
        assertEquals(0, pool.leased());
    }

    @Test
    void aCallMadeOnAnIoThreadCompletesOnItAndOneFromElsewhereOnAnIoThread() throws Exception {
        // Answered late enough that the virtual thread's callback is attached before the call completes: attached
        // after, it would run on the virtual thread itself.
        TestBackend backend = track(TestBackend.start(request ->
                TestBackend.Reply.delayed(Duration.ofMillis(200), 200, "application/json", "{}")));
        UpstreamPool pool = pool(backend.port(), settings(4, Duration.ofSeconds(1)));
        XnioIoThread ioThread = worker.getIoThread();
        CompletableFuture<Thread> completedOn = new CompletableFuture<>();
        ioThread.execute(() -> pool.send(get("/")).whenComplete((answer, failure) ->
                completedOn.complete(Thread.currentThread())));
        assertSame(ioThread, completedOn.get(10, TimeUnit.SECONDS));

        CompletableFuture<Thread> fromVirtual = new CompletableFuture<>();
        Thread.ofVirtual().start(() -> pool.send(get("/")).whenComplete((answer, failure) ->
                fromVirtual.complete(Thread.currentThread())));
        assertInstanceOf(XnioIoThread.class, fromVirtual.get(10, TimeUnit.SECONDS));
    }

    @Test
    void aKeptAliveConnectionTheServerClosedIsReplacedWithoutFailing() throws Exception {
        // Answers each connection's first request with keep-alive, then closes it, as a server's idle timeout does.
        ScriptedServer server = track(new ScriptedServer((socket, index) -> {
            if (RawHttp.readRequest(socket.getInputStream())) {
                write(socket, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
            }
        }));
        UpstreamPool pool = pool(server.port(), settings(4, Duration.ofSeconds(1)));
        for (int i = 0; i < 3; i++) {
            assertEquals("ok", new String(join(pool.send(get("/"))).bytes(), StandardCharsets.US_ASCII));
            Await.until("the server's close seen by the pool", () -> pool.available() == 0);
        }
        assertEquals(3, server.accepted());
    }

    @Test
    void aKeptAliveConnectionClosedAfterTheRequestIsStale() throws Exception {
        ScriptedServer server = answersOnceThenCloses();
        UpstreamPool pool = pool(server.port(), settings(4, Duration.ofSeconds(1)));
        XnioIoThread ioThread = worker.getIoThread();
        join(on(ioThread, () -> pool.send(post("/", "once"))));
        assertEquals(UpstreamException.Kind.STALE_CONNECTION,
                failure(on(ioThread, () -> pool.send(post("/", "twice")))).kind());
        assertEquals(1, server.accepted(), "a POST is not sent again");
    }

    @Test
    void aGetOnAKeptAliveConnectionClosedUnderItIsSentAgain() throws Exception {
        ScriptedServer server = answersOnceThenCloses();
        UpstreamPool pool = pool(server.port(), settings(4, Duration.ofSeconds(1)));
        XnioIoThread ioThread = worker.getIoThread();
        join(on(ioThread, () -> pool.send(get("/"))));
        assertEquals(200, join(on(ioThread, () -> pool.send(get("/")))).status());
        assertEquals(2, server.accepted());
    }

    /** Each connection answers once, then takes the next request and closes without answering it. */
    private ScriptedServer answersOnceThenCloses() throws IOException {
        return track(new ScriptedServer((socket, index) -> {
            InputStream in = socket.getInputStream();
            if (RawHttp.readRequest(in)) {
                write(socket, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
            }
            RawHttp.readRequest(in);
        }));
    }

    @Test
    void aResetMidBodyIsABrokenAnswer() throws Exception {
        ScriptedServer server = track(new ScriptedServer((socket, index) -> {
            RawHttp.readRequest(socket.getInputStream());
            write(socket, "HTTP/1.1 500 Oops\r\nContent-Length: 100\r\n\r\nonly ten b");
            socket.setSoLinger(true, 0);
            socket.close();
        }));
        UpstreamPool pool = pool(server.port(), settings(4, Duration.ofSeconds(1)));
        assertEquals(UpstreamException.Kind.BROKEN, failure(pool.send(get("/"))).kind());
        Await.until("the broken connection forgotten", () -> pool.leased() == 0 && pool.available() == 0);
    }

    @Test
    void aGarbageStatusLineIsMalformed() throws Exception {
        ScriptedServer server = track(new ScriptedServer((socket, index) -> {
            RawHttp.readRequest(socket.getInputStream());
            write(socket, "HTTP/1.1 two hundred OK\r\n\r\n");
            socket.getInputStream().read();
        }));
        UpstreamPool pool = pool(server.port(), settings(4, Duration.ofSeconds(1)));
        assertEquals(UpstreamException.Kind.MALFORMED, failure(pool.send(get("/"))).kind());
    }

    @Test
    void badChunkFramingIsMalformedReadWholeOrStreamed() throws Exception {
        ScriptedServer server = track(new ScriptedServer((socket, index) -> {
            RawHttp.readRequest(socket.getInputStream());
            write(socket, "HTTP/1.1 " + (index == 0 ? "500 Oops" : "200 OK")
                    + "\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\nzz\r\nnot hex\r\n");
            socket.getInputStream().read();
        }));
        UpstreamPool pool = pool(server.port(), settings(1, Duration.ofSeconds(1)));
        assertEquals(UpstreamException.Kind.MALFORMED, failure(pool.send(get("/"))).kind());

        UpstreamAnswer streamed = join(pool.send(get("/")));
        UpstreamException failure = assertThrows(UpstreamException.class, () -> streamed.stream().readAllBytes());
        assertEquals(UpstreamException.Kind.MALFORMED, failure.kind());
    }

    @Test
    void aStalledServerTimesOutAndItsConnectionIsClosed() throws Exception {
        AtomicBoolean hungUp = new AtomicBoolean();
        ScriptedServer server = track(new ScriptedServer((socket, index) -> {
            RawHttp.readRequest(socket.getInputStream());
            try {
                socket.getInputStream().read();
            } finally {
                hungUp.set(true);
            }
        }));
        UpstreamPool pool = pool(server.port(), settings(4, Duration.ofSeconds(1)));
        UpstreamRequest request = new UpstreamRequest("GET", "/", new Headers(), null,
                TimeUnit.MILLISECONDS.toNanos(200), 1024, Integer.MAX_VALUE);
        assertEquals(UpstreamException.Kind.TIMED_OUT, failure(pool.send(request)).kind());
        Await.until("the server sees the connection closed", hungUp::get);
        assertEquals(0, pool.leased());
    }

    @Test
    void aCallCancelledFromAnotherThreadEndsAtOnceAndClosesItsConnection() throws Exception {
        AtomicBoolean asked = new AtomicBoolean();
        AtomicBoolean hungUp = new AtomicBoolean();
        ScriptedServer server = track(new ScriptedServer((socket, index) -> {
            RawHttp.readRequest(socket.getInputStream());
            asked.set(true);
            try {
                socket.getInputStream().read();
            } finally {
                hungUp.set(true);
            }
        }));
        UpstreamPool pool = pool(server.port(), settings(4, Duration.ofSeconds(1)));
        CompletableFuture<UpstreamAnswer> call = pool.send(new UpstreamRequest("GET", "/", new Headers(), null,
                TimeUnit.SECONDS.toNanos(30), 1024, Integer.MAX_VALUE)).toCompletableFuture();
        Await.until("the server has the request", asked::get);
        assertTrue(call.cancel(true));
        Await.until("the server sees the connection closed", hungUp::get);
        Await.until("nothing leased or idle", () -> pool.leased() == 0 && pool.available() == 0);
    }

    @Test
    void aStreamThatOutlivesTheCallsTimeFailsItsReader() throws Exception {
        ScriptedServer server = track(new ScriptedServer((socket, index) -> {
            RawHttp.readRequest(socket.getInputStream());
            write(socket, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nfirst\r\n");
            socket.getInputStream().read();
        }));
        UpstreamPool pool = pool(server.port(), settings(4, Duration.ofSeconds(1)));
        UpstreamAnswer answer = join(pool.send(new UpstreamRequest("GET", "/", new Headers(), null,
                TimeUnit.MILLISECONDS.toNanos(300), 1024, 64 * 1024)));
        InputStream body = answer.stream();
        assertEquals("first", new String(body.readNBytes(5), StandardCharsets.US_ASCII));
        assertEquals(UpstreamException.Kind.TIMED_OUT, assertThrows(UpstreamException.class, body::read).kind());
    }

    @Test
    void withStreamingOffAChunkedAnswerIsReadWhole() throws Exception {
        ScriptedServer server = track(new ScriptedServer((socket, index) -> {
            RawHttp.readRequest(socket.getInputStream());
            write(socket, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                    + "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
            socket.getInputStream().read();
        }));
        UpstreamPool pool = pool(server.port(), settings(1, Duration.ofSeconds(1)));
        UpstreamAnswer answer = join(pool.send(new UpstreamRequest("GET", "/", new Headers(), null,
                TimeUnit.SECONDS.toNanos(5), 1024, Integer.MAX_VALUE)));
        assertNull(answer.stream());
        assertEquals(-1, answer.declaredLength());
        assertEquals("hello world", new String(answer.bytes(), StandardCharsets.US_ASCII));
        Await.until("the connection back in the pool", () -> pool.available() == 1);
    }

    @Test
    void anAnswerDeclaredOrGrowingPastTheLimitIsTooLarge() throws Exception {
        String big = "x".repeat(500);
        ScriptedServer server = track(new ScriptedServer((socket, index) -> {
            RawHttp.readRequest(socket.getInputStream());
            String head = switch (index) {
                case 0 -> "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n";
                case 1 -> "HTTP/1.1 500 Oops\r\nTransfer-Encoding: chunked\r\n\r\n1f4\r\n" + big + "\r\n0\r\n\r\n";
                default -> "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1f4\r\n" + big + "\r\n0\r\n\r\n";
            };
            write(socket, head);
            socket.getInputStream().read();
        }));
        UpstreamPool pool = pool(server.port(), settings(1, Duration.ofSeconds(1)));
        UpstreamRequest limited = new UpstreamRequest("GET", "/", new Headers(), null, TimeUnit.SECONDS.toNanos(5),
                100, 64 * 1024);
        assertEquals(UpstreamException.Kind.TOO_LARGE, failure(pool.send(limited)).kind());
        assertEquals(UpstreamException.Kind.TOO_LARGE, failure(pool.send(limited)).kind());
        UpstreamAnswer streamed = join(pool.send(limited));
        assertEquals(UpstreamException.Kind.TOO_LARGE,
                assertThrows(UpstreamException.class, () -> streamed.stream().readAllBytes()).kind());
        assertEquals(3, server.accepted(), "an answer too large is never drained: its connection is dropped");
    }

    @Test
    void aDeclaredLengthIsNotTakenUpFrontBeforeItsBytesCome() throws Exception {
        // 50 MB declared, ten bytes sent, then the connection closes: the call takes memory for what came.
        ScriptedServer server = track(new ScriptedServer((socket, index) -> {
            RawHttp.readRequest(socket.getInputStream());
            write(socket, "HTTP/1.1 200 OK\r\nContent-Length: 50000000\r\n\r\n0123456789");
        }));
        UpstreamPool pool = pool(server.port(), settings(1, Duration.ofSeconds(1)));
        XnioIoThread ioThread = worker.getIoThread();
        com.sun.management.ThreadMXBean threads =
                (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        long before = threads.getThreadAllocatedBytes(ioThread.threadId());
        UpstreamRequest whole = new UpstreamRequest("GET", "/", new Headers(), null, TimeUnit.SECONDS.toNanos(5),
                64 << 20, Integer.MAX_VALUE);
        assertEquals(UpstreamException.Kind.BROKEN, failure(on(ioThread, () -> pool.send(whole))).kind());
        long allocated = threads.getThreadAllocatedBytes(ioThread.threadId()) - before;
        assertTrue(allocated < 4 << 20, "the IO thread allocated " + allocated + " bytes for ten");
    }

    @Test
    void aLargeDeclaredBodyIsReadWholeAsItsPiecesCome() throws Exception {
        byte[] body = new byte[300_000];
        new java.util.Random(7).nextBytes(body);
        ScriptedServer server = track(new ScriptedServer((socket, index) -> {
            RawHttp.readRequest(socket.getInputStream());
            write(socket, "HTTP/1.1 200 OK\r\nContent-Length: " + body.length + "\r\n\r\n");
            for (int at = 0; at < body.length; at += 7_000) {
                socket.getOutputStream().write(body, at, Math.min(7_000, body.length - at));
                socket.getOutputStream().flush();
            }
            socket.getInputStream().read();
        }));
        UpstreamPool pool = pool(server.port(), settings(1, Duration.ofSeconds(1)));
        UpstreamAnswer answer = join(pool.send(new UpstreamRequest("GET", "/", new Headers(), null,
                TimeUnit.SECONDS.toNanos(5), 1 << 20, Integer.MAX_VALUE)));
        assertArrayEquals(body, answer.bytes());
    }

    @Test
    void aNameTheResolverIsSlowToAnswerHoldsNoOtherCallOfItsIoThread() throws Exception {
        TestBackend backend = track(TestBackend.start(request -> TestBackend.Reply.json(200, "{}")));
        UpstreamPool named = io.track(upstream.open(URI.create("http://" + UUID.randomUUID() + TestNames.SLOW + ":"
                + backend.port()), new UpstreamSettings(1, Duration.ofSeconds(5), Duration.ofSeconds(1),
                Duration.ofSeconds(60), Duration.ofMinutes(5))));
        UpstreamPool byAddress = pool(backend.port(), settings(1, Duration.ofSeconds(1)));
        XnioIoThread ioThread = worker.getIoThread();

        CompletionStage<UpstreamAnswer> slow = on(ioThread, () -> named.send(get("/")));
        long start = System.nanoTime();
        assertEquals(200, join(on(ioThread, () -> byAddress.send(get("/")))).status());
        long quickMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertTrue(quickMillis < TestNames.SLOW_MILLIS, "a call of the same IO thread took " + quickMillis
                + " ms while the name was looked up");
        assertEquals(200, join(slow).status());
    }

    @Test
    void theConnectTimeoutCoversLookingTheNameUp() {
        UpstreamPool named = io.track(upstream.open(URI.create("http://" + UUID.randomUUID() + TestNames.SLOW + ":9"),
                new UpstreamSettings(1, Duration.ofMillis(200), Duration.ofSeconds(1), Duration.ofSeconds(60),
                        Duration.ofMinutes(5))));
        UpstreamException failed = failure(named.send(get("/")));
        assertEquals(UpstreamException.Kind.CONNECT_FAILED, failed.kind());
        assertTrue(failed.getMessage().contains("connect timeout"), failed.getMessage());
        // Its connection's count was freed: with one connection at most, a count kept would leave none to open.
        assertEquals(UpstreamException.Kind.CONNECT_FAILED, failure(named.send(get("/"))).kind());
    }

    @Test
    void aNameThatDoesNotResolveFailsTheCallAsConnectFailed() {
        UpstreamPool named = io.track(upstream.open(URI.create("http://" + UUID.randomUUID() + TestNames.UNKNOWN
                + ":9"), settings(1, Duration.ofSeconds(1))));
        UpstreamException failed = failure(named.send(get("/")));
        assertEquals(UpstreamException.Kind.CONNECT_FAILED, failed.kind());
        assertTrue(failed.getMessage().contains("cannot resolve"), failed.getMessage());
    }

    @Test
    void aFullPoolMakesCallsWaitUpToThePoolTimeout() throws Exception {
        TestBackend backend = track(TestBackend.start(request -> request.path().equals("/slow")
                ? TestBackend.Reply.delayed(Duration.ofSeconds(2), 200, "text/plain", "slow")
                : new TestBackend.Reply(200, "text/plain", "quick")));
        UpstreamPool pool = pool(backend.port(), settings(1, Duration.ofMillis(200)));
        CompletableFuture<UpstreamAnswer> slow = pool.send(get("/slow")).toCompletableFuture();
        Await.until("the slow call holds the only connection", () -> pool.leased() == 1);
        assertEquals(UpstreamException.Kind.POOL_EXHAUSTED, failure(pool.send(get("/quick"))).kind());
        assertEquals("slow", new String(join(slow).bytes(), StandardCharsets.US_ASCII));
    }

    @Test
    void aWaitingCallTakesTheConnectionThatFrees() throws Exception {
        TestBackend backend = track(TestBackend.start(request ->
                TestBackend.Reply.delayed(Duration.ofMillis(300), 200, "text/plain", "done")));
        UpstreamPool pool = pool(backend.port(), settings(1, GENEROUS));
        CompletableFuture<UpstreamAnswer> first = pool.send(get("/")).toCompletableFuture();
        CompletableFuture<UpstreamAnswer> second = pool.send(get("/")).toCompletableFuture();
        Await.until("one call waits", () -> pool.pending() == 1);
        assertEquals(200, join(first).status());
        assertEquals(200, join(second).status());
        assertEquals(0, pool.pending());
    }

    @Test
    void maxConnectionsBoundsConcurrentCallsOfEveryThread() throws Exception {
        TestBackend backend = track(TestBackend.start(request ->
                TestBackend.Reply.delayed(Duration.ofMillis(20), 200, "text/plain", "ok")));
        UpstreamPool pool = pool(backend.port(), settings(3, GENEROUS));
        ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
        AtomicInteger answered = new AtomicInteger();
        List<Thread> callers = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            // Half of them call from IO threads, whose calls stay there, half from virtual threads.
            XnioIoThread ioThread = i % 2 == 0 ? null : worker.getIoThread(i / 2);
            callers.add(Thread.ofVirtual().start(() -> {
                try {
                    for (int j = 0; j < 3; j++) {
                        CompletionStage<UpstreamAnswer> call = ioThread == null ? pool.send(get("/"))
                                : on(ioThread, () -> pool.send(get("/")));
                        if (join(call).status() == 200) {
                            answered.incrementAndGet();
                        }
                    }
                } catch (Throwable e) {
                    failures.add(e);
                }
            }));
        }
        for (Thread caller : callers) {
            caller.join(GENEROUS.toMillis() * 3);
        }
        assertEquals(List.of(), List.copyOf(failures));
        assertEquals(120, answered.get());
        assertTrue(backend.maxConcurrentCalls() <= 3, "at most 3 at once, saw " + backend.maxConcurrentCalls());
        assertTrue(pool.available() <= 3);
        assertEquals(0, pool.leased());
        assertEquals(0, pool.pending());
    }

    @Test
    void aFullPoolHandsItsConnectionsOnRatherThanReopeningThem() throws Exception {
        ScriptedServer server = track(new ScriptedServer((socket, index) -> {
            while (RawHttp.readRequest(socket.getInputStream())) {
                write(socket, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
            }
        }));
        UpstreamPool pool = pool(server.port(), settings(4, GENEROUS));
        List<CompletableFuture<Integer>> callers = new ArrayList<>();
        for (int i = 0; i < 32; i++) {
            // Callers on both IO threads, always more than the pool has connections: both threads' calls wait.
            callers.add(caller(pool, worker.getIoThread(i % 2), 10));
        }
        int answered = 0;
        for (CompletableFuture<Integer> caller : callers) {
            answered += caller.get(GENEROUS.toSeconds() * 3, TimeUnit.SECONDS);
        }
        assertEquals(320, answered);
        // Closing a freed connection for a call of the other thread happens only while one thread has none waiting.
        assertTrue(server.accepted() <= 40, "320 calls over 4 connections opened " + server.accepted());
    }

    @Test
    void aThreadHoldingNoConnectionGetsOneWhileAnotherThreadsCallsKeepWaiting() throws Exception {
        TestBackend backend = track(TestBackend.start(request ->
                TestBackend.Reply.delayed(Duration.ofMillis(20), 200, "text/plain", "ok")));
        UpstreamPool pool = pool(backend.port(), settings(2, Duration.ofSeconds(1)));
        // Six callers on the first thread, for 20 calls each: its calls wait for its two connections throughout.
        XnioIoThread busy = worker.getIoThread(0);
        List<CompletableFuture<Integer>> callers = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            callers.add(caller(pool, busy, 20));
        }
        Await.until("the first thread holds both connections, its calls waiting", () ->
                pool.leased() == 2 && pool.pending() > 0);

        long start = System.nanoTime();
        assertEquals(200, join(on(worker.getIoThread(1), () -> pool.send(get("/")))).status(),
                "the second thread's call got a connection before its pool timeout");
        long waitedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertTrue(waitedMillis < 500, "waited " + waitedMillis + " ms for one of the first thread's connections");
        for (CompletableFuture<Integer> caller : callers) {
            assertEquals(20, caller.get(GENEROUS.toSeconds() * 3, TimeUnit.SECONDS));
        }
    }

    /** A virtual thread making {@code calls} calls one after another on {@code ioThread}: how many answered 200. */
    private static CompletableFuture<Integer> caller(UpstreamPool pool, XnioIoThread ioThread, int calls) {
        return CompletableFuture.supplyAsync(() -> {
            int answered = 0;
            for (int j = 0; j < calls; j++) {
                try {
                    answered += join(on(ioThread, () -> pool.send(get("/")))).status() == 200 ? 1 : 0;
                } catch (Exception e) {
                    throw new CompletionException(e);
                }
            }
            return answered;
        }, Executors.newVirtualThreadPerTaskExecutor());
    }

    @Test
    void aCallWaitingOnAFullPoolIsNotStarvedByAnotherThreadsIdleConnection() throws Exception {
        TestBackend backend = track(TestBackend.start(request -> new TestBackend.Reply(200, "text/plain", "ok")));
        UpstreamPool pool = pool(backend.port(), settings(1, Duration.ofMillis(500)));
        assertEquals(200, join(on(worker.getIoThread(0), () -> pool.send(get("/")))).status());
        Await.until("the one connection is idle on the first thread", () -> pool.available() == 1);

        assertEquals(200, join(on(worker.getIoThread(1), () -> pool.send(get("/")))).status(),
                "the second thread's call got a connection of its own");
        Await.until("one connection, idle on the second thread", () -> pool.available() == 1 && pool.leased() == 0);
    }

    @Test
    void idleConnectionsExpireAndOldOnesAreNotReused() throws Exception {
        TestBackend backend = track(TestBackend.start(request -> TestBackend.Reply.json(200, "{}")));
        UpstreamPool idling = pool(backend.port(), new UpstreamSettings(2, Duration.ofSeconds(1),
                Duration.ofSeconds(1), Duration.ofMillis(100), Duration.ofMinutes(5)));
        join(idling.send(get("/")));
        Await.until("the idle connection closed", () -> idling.available() == 0);

        UpstreamPool aging = pool(backend.port(), new UpstreamSettings(2, Duration.ofSeconds(1),
                Duration.ofSeconds(1), Duration.ofMinutes(1), Duration.ofMillis(100)));
        int before = backend.distinctConnections();
        join(aging.send(get("/")));
        Await.until("the connection past its lifetime closed", () -> aging.available() == 0);
        join(aging.send(get("/")));
        assertEquals(before + 2, backend.distinctConnections(), "a connection past its lifetime is replaced");
    }

    @Test
    void aCallWaitingForAConnectionWhenThePoolClosesFailsAsClosed() throws Exception {
        TestBackend backend = track(TestBackend.start(request ->
                TestBackend.Reply.delayed(Duration.ofSeconds(1), 200, "text/plain", "slow")));
        UpstreamPool pool = pool(backend.port(), settings(1, GENEROUS));
        CompletableFuture<UpstreamAnswer> inFlight = pool.send(get("/")).toCompletableFuture();
        CompletableFuture<UpstreamAnswer> waiting = pool.send(get("/")).toCompletableFuture();
        Await.until("one call waits", () -> pool.pending() == 1);
        pool.close();
        assertEquals(UpstreamException.Kind.CLOSED, failure(waiting).kind());
        assertEquals(200, join(inFlight).status(), "a call in flight ends as it would");
        Await.until("its connection closed after it", () -> pool.available() == 0 && pool.leased() == 0);
    }

    @Test
    void aRefusedConnectionFailsToConnect() throws Exception {
        int port;
        try (ServerSocket closed = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = closed.getLocalPort();
        }
        UpstreamPool pool = pool(port, settings(1, Duration.ofSeconds(1)));
        assertEquals(UpstreamException.Kind.CONNECT_FAILED, failure(pool.send(get("/"))).kind());
        // The failed connect frees its place: the next call tries again rather than waiting.
        assertEquals(UpstreamException.Kind.CONNECT_FAILED, failure(pool.send(get("/"))).kind());
    }

    @Test
    void aClosedPoolRefusesCallsAndClosesItsIdleConnections() throws Exception {
        TestBackend backend = track(TestBackend.start(request -> TestBackend.Reply.json(200, "{}")));
        UpstreamPool pool = pool(backend.port(), settings(2, Duration.ofSeconds(1)));
        join(pool.send(get("/")));
        assertEquals(1, pool.available());
        pool.close();
        assertEquals(UpstreamException.Kind.CLOSED, failure(pool.send(get("/"))).kind());
        Await.until("its idle connection closed", () -> pool.available() == 0);
    }

    @Test
    void withoutIoThreadsACallFailsAsClosed() {
        UpstreamPool pool = new IoUpstreamHttp().open(URI.create("http://127.0.0.1:9"), settings(1,
                Duration.ofSeconds(1)));
        assertEquals(UpstreamException.Kind.CLOSED, failure(pool.send(get("/"))).kind());
    }

    private UpstreamPool pool(int port, UpstreamSettings settings) {
        return UpstreamCalls.pool(io, port, settings);
    }

    private <T extends AutoCloseable> T track(T resource) {
        return io.track(resource);
    }
}
