package dev.modelgate.kernel.testing;

import dev.modelgate.kernel.upstream.IoUpstreamHttp;
import io.undertow.Undertow;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.xnio.Xnio;
import org.xnio.XnioWorker;

/**
 * Two IO threads as a gateway has them, with the upstream pools on them, for tests of upstream calls without a
 * gateway around them. Closing it stops the threads.
 */
public final class IoThreads implements AutoCloseable {

    private final ExecutorService tasks = Executors.newVirtualThreadPerTaskExecutor();
    private final XnioWorker worker = Xnio.getInstance(Undertow.class.getClassLoader()).createWorkerBuilder()
            .setWorkerName("test").setWorkerIoThreads(2).setExternalExecutorService(tasks).build();
    private final IoUpstreamHttp upstream = new IoUpstreamHttp();

    public IoThreads() {
        upstream.attach(worker);
    }

    public XnioWorker worker() {
        return worker;
    }

    public IoUpstreamHttp upstream() {
        return upstream;
    }

    @Override
    public void close() throws InterruptedException {
        worker.shutdown();
        worker.awaitTermination(5, TimeUnit.SECONDS);
        tasks.shutdownNow();
    }
}
