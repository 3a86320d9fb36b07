package dev.modelgate.kernel.upstream;

import static dev.modelgate.kernel.upstream.UpstreamCalls.awaitHeldBack;
import static dev.modelgate.kernel.upstream.UpstreamCalls.chunkedServer;
import static dev.modelgate.kernel.upstream.UpstreamCalls.GENEROUS;
import static dev.modelgate.kernel.upstream.UpstreamCalls.failure;
import static dev.modelgate.kernel.upstream.UpstreamCalls.get;
import static dev.modelgate.kernel.upstream.UpstreamCalls.join;
import static dev.modelgate.kernel.upstream.UpstreamCalls.on;
import static dev.modelgate.kernel.upstream.UpstreamCalls.settings;
import static dev.modelgate.kernel.upstream.UpstreamCalls.write;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.modelgate.kernel.testing.Await;
import dev.modelgate.kernel.testing.IoThreads;
import dev.modelgate.kernel.testing.RawHttp;
import dev.modelgate.kernel.testing.ScriptedServer;
import dev.modelgate.spi.Headers;
import dev.modelgate.spi.upstream.ChunkListener;
import dev.modelgate.spi.upstream.UpstreamAnswer;
import dev.modelgate.spi.upstream.UpstreamException;
import dev.modelgate.spi.upstream.UpstreamPool;
import dev.modelgate.spi.upstream.UpstreamRequest;
import dev.modelgate.spi.upstream.UpstreamSettings;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.xnio.XnioIoThread;
import org.xnio.XnioWorker;

/**
 * Streamed answers of the upstream pools against servers on loopback: read by a blocking reader, held back while it
 * is slow, closed early, or pushed chunk by chunk to a listener on the call's IO thread, stalled servers included.
 */
class UpstreamStreamsTest {

    private static final int CHUNK = 16 * 1024;
    private static final int CHUNKS = 1024;

    private final IoThreads io = new IoThreads();
    private final XnioWorker worker = io.worker();

    @AfterEach
    void stop() throws Exception {
        io.close();
    }

    @Test
    void aStreamedAnswerIsHeldBackByASlowReaderAndReadWhole() throws Exception {
        AtomicLong written = new AtomicLong();
        Streamed streamed = chunkedAnswer(written);
        UpstreamAnswer answer = streamed.answer();
        assertEquals(-1, answer.declaredLength());
        InputStream body = answer.stream();
        assertEquals(0, body.read());
        // While nobody reads, the server stops once the socket buffers and the 64 KB queue are full.
        awaitHeldBack(written);
        assertTrue(written.get() < (long) CHUNK * CHUNKS, "held back at " + written.get() + " bytes");
        byte[] rest = body.readAllBytes();
        assertEquals((long) CHUNK * CHUNKS - 1, rest.length);
        assertEquals((byte) (CHUNKS - 1), rest[rest.length - 1]);
        body.close();
        Await.until("the connection back in the pool",
                () -> streamed.pool().available() == 1 && streamed.pool().leased() == 0);
    }

    @Test
    void closingAStreamBeforeItsEndDropsTheConnection() throws Exception {
        AtomicBoolean hungUp = new AtomicBoolean();
        ScriptedServer server = track(new ScriptedServer((socket, index) -> {
            RawHttp.readRequest(socket.getInputStream());
            OutputStream out = socket.getOutputStream();
            out.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            try {
                // Until the write the socket's buffers hold back fails: the client dropped the connection.
                while (true) {
                    out.write("6\r\nevent\n\r\n".getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                }
            } catch (IOException e) {
                hungUp.set(true);
            }
        }));
        UpstreamPool pool = pool(server.port(), settings(1, Duration.ofSeconds(1)));
        UpstreamAnswer answer = join(pool.send(get("/")));
        assertEquals("event\n", new String(answer.stream().readNBytes(6), StandardCharsets.US_ASCII));
        answer.stream().close();
        Await.until("the server sees the connection dropped", hungUp::get);
        Await.until("nothing leased or kept", () -> pool.leased() == 0 && pool.available() == 0);
    }

    @Test
    void aPushedStreamGivesWhatCameBeforeAndAfterOnTheCallsThreadThenItsEnd() throws Exception {
        CompletableFuture<Void> second = new CompletableFuture<>();
        ScriptedServer server = track(new ScriptedServer((socket, index) -> {
            RawHttp.readRequest(socket.getInputStream());
            write(socket, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nfirst\n\r\n");
            second.get(10, TimeUnit.SECONDS);
            write(socket, "7\r\nsecond\n\r\n0\r\n\r\n");
            socket.getInputStream().read();
        }));
        UpstreamPool pool = pool(server.port(), settings(1, Duration.ofSeconds(1)));
        XnioIoThread ioThread = worker.getIoThread();
        UpstreamAnswer answer = join(on(ioThread, () -> pool.send(get("/"))));
        // Pushed only once the first chunk came: it waits in the stream, and goes first.
        AnswerStream stream = (AnswerStream) answer.stream();
        Await.until("the first chunk in the stream", () -> stream.available() > 0);
        Chunks chunks = new Chunks(true);
        answer.streamed().push(chunks, GENEROUS);
        Await.until("the first chunk pushed", () -> chunks.text().equals("first\n"));
        second.complete(null);

        assertEquals(null, chunks.ended.get(10, TimeUnit.SECONDS));
        assertEquals("first\nsecond\n", chunks.text());
        assertEquals(List.of(ioThread), chunks.threads.stream().distinct().toList());
        Await.until("the connection back in the pool", () -> pool.available() == 1 && pool.leased() == 0);
    }

    @Test
    void aPushedStreamWhoseServerGoesQuietFailsAsStalledAndDropsItsConnection() throws Exception {
        AtomicBoolean hungUp = new AtomicBoolean();
        ScriptedServer server = track(new ScriptedServer((socket, index) -> {
            RawHttp.readRequest(socket.getInputStream());
            write(socket, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nfirst\n\r\n");
            try {
                socket.getInputStream().read();
            } finally {
                hungUp.set(true);
            }
        }));
        UpstreamPool pool = pool(server.port(), settings(1, Duration.ofSeconds(1)));
        UpstreamAnswer answer = join(pool.send(get("/")));
        Chunks chunks = new Chunks(true);
        answer.streamed().push(chunks, Duration.ofMillis(200));

        CompletionException failed = assertThrows(CompletionException.class,
                () -> chunks.ended.orTimeout(10, TimeUnit.SECONDS).join());
        assertEquals(UpstreamException.Kind.STALLED,
                assertInstanceOf(UpstreamException.class, failed.getCause()).kind());
        assertEquals("first\n", chunks.text());
        Await.until("the server sees the connection closed", hungUp::get);
        assertEquals(0, pool.leased());
    }

    @Test
    void aListenerThatHoldsBackStopsTheReadingAndIsNeverStalledMeanwhile() throws Exception {
        AtomicLong written = new AtomicLong();
        Streamed streamed = chunkedAnswer(written);
        UpstreamAnswer answer = streamed.answer();
        Chunks holding = new Chunks(false);
        answer.streamed().push(holding, Duration.ofMillis(100));
        // Held back: nothing more written for three idle times, and no stall meanwhile.
        awaitHeldBack(written);
        assertTrue(written.get() < (long) CHUNK * CHUNKS, "held back at " + written.get() + " bytes");
        assertTrue(!holding.ended.isDone(), "ended while held back: " + holding.ended);

        holding.takeAll = true;
        answer.streamed().resume();
        assertEquals(null, holding.ended.get(10, TimeUnit.SECONDS));
        assertEquals((long) CHUNK * CHUNKS, holding.bytes.get());
        Await.until("the connection back in the pool",
                () -> streamed.pool().available() == 1 && streamed.pool().leased() == 0);
    }

    /** A listener that keeps what it is pushed and the threads it came on; it holds back unless {@link #takeAll}. */
    private static final class Chunks implements ChunkListener {
        final CompletableFuture<Void> ended = new CompletableFuture<>();
        final ConcurrentLinkedQueue<Thread> threads = new ConcurrentLinkedQueue<>();
        final AtomicLong bytes = new AtomicLong();
        private final StringBuffer text = new StringBuffer();
        volatile boolean takeAll;

        Chunks(boolean takeAll) {
            this.takeAll = takeAll;
        }

        String text() {
            return text.toString();
        }

        @Override
        public boolean onChunk(byte[] chunk) {
            threads.add(Thread.currentThread());
            bytes.addAndGet(chunk.length);
            if (chunk.length < 64) {
                text.append(new String(chunk, StandardCharsets.US_ASCII));
            }
            return takeAll;
        }

        @Override
        public void onEnd() {
            ended.complete(null);
        }

        @Override
        public void onFailure(UpstreamException failure) {
            ended.completeExceptionally(failure);
        }
    }

    /** A call's answer whose body is still arriving, and the pool it was made on. */
    private record Streamed(UpstreamPool pool, UpstreamAnswer answer) {
    }

    /**
     * The head of the answer of a {@link UpstreamCalls#chunkedServer} of {@value #CHUNKS} chunks of {@value #CHUNK}
     * bytes, its body streamed (a call of 30 s, no size limit).
     */
    private Streamed chunkedAnswer(AtomicLong written) throws Exception {
        ScriptedServer server = chunkedServer(io, CHUNK, CHUNKS, written);
        UpstreamPool pool = pool(server.port(), settings(1, Duration.ofSeconds(1)));
        return new Streamed(pool, join(pool.send(new UpstreamRequest("GET", "/", new Headers(), null,
                TimeUnit.SECONDS.toNanos(30), Long.MAX_VALUE, 64 * 1024))));
    }

    private UpstreamPool pool(int port, UpstreamSettings settings) {
        return UpstreamCalls.pool(io, port, settings);
    }

    private <T extends AutoCloseable> T track(T resource) {
        return io.track(resource);
    }
}
