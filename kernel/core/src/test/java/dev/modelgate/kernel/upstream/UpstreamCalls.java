package dev.modelgate.kernel.upstream;

import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.modelgate.kernel.testing.Await;
import dev.modelgate.kernel.testing.IoThreads;
import dev.modelgate.kernel.testing.RawHttp;
import dev.modelgate.kernel.testing.ScriptedServer;
import dev.modelgate.spi.Headers;
import dev.modelgate.spi.upstream.UpstreamAnswer;
import dev.modelgate.spi.upstream.UpstreamException;
import dev.modelgate.spi.upstream.UpstreamPool;
import dev.modelgate.spi.upstream.UpstreamRequest;
import dev.modelgate.spi.upstream.UpstreamSettings;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.xnio.XnioIoThread;

/** What the upstream pools' tests share: pools on the test's IO threads, the calls they make, servers that stream. */
final class UpstreamCalls {

    static final Duration GENEROUS = Duration.ofSeconds(10);

    private UpstreamCalls() {
    }

    /** A pool of {@code io}'s to the server on {@code port} of loopback, closed with {@code io}. */
    static UpstreamPool pool(IoThreads io, int port, UpstreamSettings settings) {
        return io.track(io.upstream().open(URI.create("http://127.0.0.1:" + port + "/ignored"), settings));
    }

    static UpstreamSettings settings(int maxConnections, Duration poolTimeout) {
        return new UpstreamSettings(maxConnections, Duration.ofSeconds(1), poolTimeout, Duration.ofSeconds(60),
                Duration.ofMinutes(5));
    }

    static UpstreamRequest get(String target) {
        return new UpstreamRequest("GET", target, new Headers(), null, TimeUnit.SECONDS.toNanos(10), 1 << 20,
                64 * 1024);
    }

    static UpstreamRequest post(String target, String body) {
        return new UpstreamRequest("POST", target, new Headers().set("Content-Type", "text/plain").set("X-Test", "yes"),
                body.getBytes(StandardCharsets.UTF_8), TimeUnit.SECONDS.toNanos(10), 1 << 20, 64 * 1024);
    }

    /** The call {@code send} makes, made on {@code ioThread}. */
    static CompletionStage<UpstreamAnswer> on(XnioIoThread ioThread, Supplier<CompletionStage<UpstreamAnswer>> send) {
        CompletableFuture<UpstreamAnswer> answer = new CompletableFuture<>();
        ioThread.execute(() -> send.get().whenComplete((done, failure) -> {
            if (failure != null) {
                answer.completeExceptionally(failure);
            } else {
                answer.complete(done);
            }
        }));
        return answer;
    }

    static UpstreamAnswer join(CompletionStage<UpstreamAnswer> stage) throws Exception {
        return stage.toCompletableFuture().get(GENEROUS.toSeconds(), TimeUnit.SECONDS);
    }

    static UpstreamException failure(CompletionStage<UpstreamAnswer> stage) {
        CompletionException thrown = assertThrows(CompletionException.class,
                () -> stage.toCompletableFuture().orTimeout(GENEROUS.toSeconds(), TimeUnit.SECONDS).join());
        return assertInstanceOf(UpstreamException.class, thrown.getCause());
    }

    static void write(Socket socket, String text) throws IOException {
        socket.getOutputStream().write(text.getBytes(StandardCharsets.ISO_8859_1));
        socket.getOutputStream().flush();
    }

    /** Waits until the server has written nothing more for a while, however often the condition is asked. */
    static void awaitHeldBack(AtomicLong written) {
        long[] last = {-1, System.nanoTime()};
        Await.until("the server held back", () -> {
            long now = written.get();
            if (now != last[0]) {
                last[0] = now;
                last[1] = System.nanoTime();
            }
            return System.nanoTime() - last[1] >= TimeUnit.MILLISECONDS.toNanos(300);
        });
    }

    /**
     * A server that answers a call with {@code chunks} chunks of {@code chunk} bytes, each filled with its index, as
     * fast as the client takes them, counting the bytes in {@code written} as it goes; closed with {@code io}.
     */
    static ScriptedServer chunkedServer(IoThreads io, int chunk, int chunks, AtomicLong written) throws IOException {
        return io.track(new ScriptedServer((socket, index) -> {
            RawHttp.readRequest(socket.getInputStream());
            OutputStream out = socket.getOutputStream();
            out.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            byte[] data = new byte[chunk];
            for (int i = 0; i < chunks; i++) {
                Arrays.fill(data, (byte) i);
                out.write((Integer.toHexString(chunk) + "\r\n").getBytes(StandardCharsets.US_ASCII));
                out.write(data);
                out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
                written.addAndGet(chunk);
            }
            out.write("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            socket.getInputStream().read();
        }));
    }
}
