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
import java.lang.reflect.Field;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
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

    @Test
    void aCallStartedAsTheTimerRingsLeavesOneTimerSetForTheFirstDeadline() throws Exception {
        try (IoThreads io = new IoThreads(); ScriptedServer stalled = new ScriptedServer((socket, index) -> {
            RawHttp.readRequest(socket.getInputStream());
            socket.getInputStream().read();
        })) {
            UpstreamPool pool = io.upstream().open(URI.create("http://127.0.0.1:" + stalled.port()),
                    new UpstreamSettings(8, Duration.ofSeconds(1), Duration.ofSeconds(1), Duration.ofSeconds(60),
                            Duration.ofMinutes(5)));
            XnioIoThread thread = io.worker().getIoThread(0);
            CompletableFuture<Void> startedAsItRang = new CompletableFuture<>();
            thread.execute(() -> {
                pool.send(stalledCall(20_000));
                // Its failure is heard on the thread, as the timer rings: a caller that tries again starts a call.
                pool.send(stalledCall(100)).whenComplete((answer, e) -> {
                    pool.send(stalledCall(30_000));
                    startedAsItRang.complete(null);
                });
            });
            startedAsItRang.get(10, TimeUnit.SECONDS);
            CompletableFuture<Long> timers = new CompletableFuture<>();
            thread.execute(() -> timers.complete(deadlineTimers(thread)));
            // One more each time this happens, every one of them ringing again and again while the list has calls.
            assertEquals(1, timers.get(10, TimeUnit.SECONDS), "timers the deadline list has set on the thread");
            pool.close();
        }
    }

    private static UpstreamRequest stalledCall(long millis) {
        return new UpstreamRequest("GET", "/", new Headers(), null, TimeUnit.MILLISECONDS.toNanos(millis), 1024,
                Integer.MAX_VALUE);
    }

    /**
     * The timers of {@link Deadlines} waiting on {@code thread} (XNIO's NIO worker thread keeps them in a sorted set
     * that no API shows); on that thread.
     */
    private static long deadlineTimers(XnioIoThread thread) {
        try {
            Field queue = thread.getClass().getDeclaredField("delayWorkQueue");
            queue.setAccessible(true);
            Field command = Class.forName("org.xnio.nio.WorkerThread$TimeKey").getDeclaredField("command");
            command.setAccessible(true);
            long count = 0;
            for (Object key : (Collection<?>) queue.get(thread)) {
                if (command.get(key).getClass().getName().startsWith(Deadlines.class.getName() + "$$")) {
                    count++;
                }
            }
            return count;
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
    }

    private static UpstreamException.Kind kind(CompletableFuture<UpstreamAnswer> call) {
        ExecutionException thrown = assertThrows(ExecutionException.class, () -> call.get(10, TimeUnit.SECONDS));
        return assertInstanceOf(UpstreamException.class, thrown.getCause()).kind();
    }
}
