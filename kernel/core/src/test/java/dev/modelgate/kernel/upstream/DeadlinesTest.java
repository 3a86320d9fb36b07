package dev.modelgate.kernel.upstream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.modelgate.kernel.testing.IoThreads;
import dev.modelgate.kernel.testing.RawHttp;
import dev.modelgate.kernel.testing.ScriptedServer;
import dev.modelgate.spi.Headers;
import dev.modelgate.spi.upstream.UpstreamAnswer;
import dev.modelgate.spi.upstream.UpstreamException;
import dev.modelgate.spi.upstream.UpstreamPool;
import dev.modelgate.spi.upstream.UpstreamRequest;
import dev.modelgate.spi.upstream.UpstreamSettings;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.xnio.XnioIoThread;

/**
 * A pool's calls on one IO thread share one list of deadlines: each call still ends at its own time, whatever the
 * order its time was given in, and one that ends early leaves the others' times as they were.
 */
class DeadlinesTest {

    @Test
    void eachCallEndsAtItsOwnTimeWhateverTheOrder() throws Exception {
        try (IoThreads io = new IoThreads(); ScriptedServer stalled = new ScriptedServer((socket, index) -> {
            RawHttp.readRequest(socket.getInputStream());
            socket.getInputStream().read();
        })) {
            IoUpstreamHttp upstream = io.upstream();
            UpstreamPool pool = upstream.open(URI.create("http://127.0.0.1:" + stalled.port()),
                    new UpstreamSettings(8, Duration.ofSeconds(1), Duration.ofSeconds(1), Duration.ofSeconds(60),
                            Duration.ofMinutes(5)));
            XnioIoThread thread = io.worker().getIoThread(0);
            // Made on one thread in this order: a long time, two short ones (the later one shorter), a long one.
            List<CompletableFuture<UpstreamAnswer>> calls = new ArrayList<>();
            for (long millis : new long[] {20_000, 150, 100, 20_000}) {
                CompletableFuture<UpstreamAnswer> call = new CompletableFuture<>();
                thread.execute(() -> pool.send(new UpstreamRequest("GET", "/", new Headers(), null,
                        TimeUnit.MILLISECONDS.toNanos(millis), 1024, Integer.MAX_VALUE)).whenComplete((answer, e) -> {
                            if (e != null) {
                                call.completeExceptionally(e);
                            } else {
                                call.complete(answer);
                            }
                        }));
                calls.add(call);
            }
            assertEquals(UpstreamException.Kind.TIMED_OUT, kind(calls.get(2)));
            assertEquals(UpstreamException.Kind.TIMED_OUT, kind(calls.get(1)));
            assertFalse(calls.get(0).isDone(), "a call of a longer time goes on");
            assertFalse(calls.get(3).isDone(), "a call of a longer time goes on");
            pool.close();
        }
    }

    private static UpstreamException.Kind kind(CompletableFuture<UpstreamAnswer> call) {
        ExecutionException thrown = assertThrows(ExecutionException.class, () -> call.get(10, TimeUnit.SECONDS));
        return assertInstanceOf(UpstreamException.class, thrown.getCause()).kind();
    }
}
