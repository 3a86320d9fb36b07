package dev.modelgate.kernel;

import java.io.IOException;
import java.lang.reflect.Field;
import java.nio.channels.SelectionKey;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.xnio.IoUtils;
import org.xnio.StreamConnection;
import org.xnio.XnioWorker;
import org.xnio.channels.AcceptingChannel;

/**
 * Closes an XNIO listening socket without resetting a connection the operating system already completed.
 *
 * <p>Java closes a listening socket that selectors watch only once every one of them has let go of it; until then the
 * kernel goes on completing connections nobody will take, and resets them at the close. So the selectors let go first
 * (the socket's selection keys cancelled, then each IO thread taken through a select), then the connections waiting
 * are taken and answered, then the socket closes at once. XNIO has no API for the first step: its listener and selection
 * keys are reached by reflection, and without them (another XNIO version, a TLS listener's wrapper) the socket is
 * closed plainly, after taking what waits.
 */
final class ListenerClose {

    private static final System.Logger LOG = System.getLogger(ListenerClose.class.getName());
    private static final long WAIT_SECONDS = 5;

    private ListenerClose() {
    }

    /** Closes {@code channel}, handing each connection still waiting to {@code take} first. */
    static void close(AcceptingChannel<? extends StreamConnection> channel, Consumer<StreamConnection> take) {
        XnioWorker worker = channel.getWorker();
        AcceptingChannel<? extends StreamConnection> server = socketServer(channel);
        List<Handle> handles = handles(server);
        if (!handles.isEmpty()) {
            handles.forEach(handle -> handle.key().cancel());
            // A selector drops a cancelled key at its next select: the second task on each thread runs after one.
            onEveryIoThread(worker);
            onEveryIoThread(worker);
        }
        // XNIO accepts only on the IO thread of the handle it accepts through (it asserts so).
        List<Executor> acceptingThreads = handles.isEmpty() ? List.of(channel.getIoThread())
                : handles.stream().map(Handle::thread).toList();
        try {
            for (Executor thread : acceptingThreads) {
                await(thread, () -> takeWaiting(server, take));
            }
        } finally {
            IoUtils.safeClose(channel);
        }
        if (handles.isEmpty()) {
            // The socket closes when the selectors let go of it: wake them all so that none keeps it listening.
            onEveryIoThread(worker);
        }
    }

    private static void takeWaiting(AcceptingChannel<? extends StreamConnection> server,
            Consumer<StreamConnection> take) {
        try {
            for (StreamConnection waiting = server.accept(); waiting != null; waiting = server.accept()) {
                // Undertow serves a connection on the IO thread it belongs to.
                StreamConnection connection = waiting;
                connection.getIoThread().execute(() -> take.accept(connection));
            }
        } catch (IOException e) {
            LOG.log(System.Logger.Level.DEBUG, () -> "taking the last connections failed: " + e);
        }
    }

    private static void onEveryIoThread(XnioWorker worker) {
        for (int i = 0; i < worker.getIoThreadCount(); i++) {
            await(worker.getIoThread(i), () -> { });
        }
    }

    private static void await(Executor thread, Runnable task) {
        CountDownLatch done = new CountDownLatch(1);
        thread.execute(() -> {
            try {
                task.run();
            } finally {
                done.countDown();
            }
        });
        try {
            if (!done.await(WAIT_SECONDS, TimeUnit.SECONDS)) {
                LOG.log(System.Logger.Level.WARNING, "an IO thread did not answer within " + WAIT_SECONDS + "s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * The channel that owns the socket: XNIO may put a queue in front of it ({@code QueuedNioTcpServer2}, which
     * spreads accepted connections over the IO threads' queues; those already queued are taken by the IO threads
     * before the tasks this class waits for).
     */
    @SuppressWarnings("unchecked")
    private static AcceptingChannel<? extends StreamConnection> socketServer(
            AcceptingChannel<? extends StreamConnection> channel) {
        try {
            Field realServer = channel.getClass().getDeclaredField("realServer");
            realServer.setAccessible(true);
            return (AcceptingChannel<? extends StreamConnection>) realServer.get(channel);
        } catch (ReflectiveOperationException | RuntimeException e) {
            return channel;
        }
    }

    /** One of XNIO's per-thread listener handles: its selection key and the IO thread it belongs to. */
    private record Handle(SelectionKey key, Executor thread) {
    }

    /** XNIO's NIO listener handles ({@code NioTcpServer.handles[]}, each a {@code NioHandle}), or none. */
    private static List<Handle> handles(AcceptingChannel<?> channel) {
        List<Handle> handles = new ArrayList<>();
        try {
            Field handlesField = channel.getClass().getDeclaredField("handles");
            handlesField.setAccessible(true);
            for (Object handle : (Object[]) handlesField.get(channel)) {
                Class<?> nioHandle = handle.getClass().getSuperclass();
                Field keyField = nioHandle.getDeclaredField("selectionKey");
                keyField.setAccessible(true);
                Field threadField = nioHandle.getDeclaredField("workerThread");
                threadField.setAccessible(true);
                handles.add(new Handle((SelectionKey) keyField.get(handle), (Executor) threadField.get(handle)));
            }
        } catch (ReflectiveOperationException | RuntimeException e) {
            LOG.log(System.Logger.Level.DEBUG, () -> "closing " + channel + " plainly: " + e);
            return List.of();
        }
        return handles;
    }
}
