package dev.modelgate.kernel.testing;

import dev.modelgate.kernel.upstream.IoUpstreamHttp;
import io.undertow.Undertow;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.xnio.Xnio;
import org.xnio.XnioWorker;

/**
 * Two IO threads as a gateway has them, with the upstream pools on them, for tests of upstream calls without a
 * gateway around them. Closing it closes what was {@link #track tracked}, last first, then stops the threads.
 */
public final class IoThreads implements AutoCloseable {

    private final ExecutorService tasks = Executors.newVirtualThreadPerTaskExecutor();
    private final XnioWorker worker = Xnio.getInstance(Undertow.class.getClassLoader()).createWorkerBuilder()
            .setWorkerName("test").setWorkerIoThreads(2).setExternalExecutorService(tasks).build();
    private final IoUpstreamHttp upstream = new IoUpstreamHttp();
    private final List<AutoCloseable> tracked = new ArrayList<>();

    public IoThreads() {
        upstream.attach(worker);
    }

    public XnioWorker worker() {
        return worker;
    }

    public IoUpstreamHttp upstream() {
        return upstream;
    }

    /** Closes {@code resource} (a test's server, a pool) when these threads stop, before they do. */
    public <T extends AutoCloseable> T track(T resource) {
        tracked.add(resource);
        return resource;
    }

    @Override
    public void close() throws Exception {
        for (AutoCloseable each : tracked.reversed()) {
            each.close();
        }
        worker.shutdown();
        worker.awaitTermination(5, TimeUnit.SECONDS);
        tasks.shutdownNow();
    }
}
