package dev.modelgate.kernel.upstream;

import dev.modelgate.kernel.BufferPool;
import dev.modelgate.spi.upstream.UpstreamHttp;
import dev.modelgate.spi.upstream.UpstreamPool;
import dev.modelgate.spi.upstream.UpstreamSettings;
import io.undertow.connector.ByteBufferPool;
import java.net.URI;
import org.xnio.XnioWorker;

/**
 * The kernel's {@link UpstreamHttp}: pools of Undertow client connections on the gateway's own IO threads.
 *
 * <p>Deployments are built before the gateway's IO threads exist (their count is configuration), and some never
 * serve at all ({@code validate}): pools open without I/O and find the worker at their first call, once the gateway
 * has {@link #attach attached} it. A call made while none is attached fails as if its pool were closed.
 */
public final class IoUpstreamHttp implements UpstreamHttp {

    /** The size of the buffers answers are read through, as the API listener's. */
    private static final int BUFFER_BYTES = 16 * 1024;

    private final ByteBufferPool buffers = new BufferPool(true, BUFFER_BYTES);
    private volatile XnioWorker worker;

    /** From now on, calls run on {@code ioThreads}, the IO threads the listeners serve on. */
    public void attach(XnioWorker ioThreads) {
        this.worker = ioThreads;
    }

    @Override
    public UpstreamPool open(URI server, UpstreamSettings settings) {
        return new IoUpstreamPool(server, settings, () -> worker, buffers);
    }
}
