package dev.modelgate.kernel.upstream;

import dev.modelgate.kernel.BufferPool;
import dev.modelgate.spi.upstream.UpstreamHttp;
import dev.modelgate.spi.upstream.UpstreamPool;
import dev.modelgate.spi.upstream.UpstreamSettings;
import io.undertow.Undertow;
import io.undertow.connector.ByteBufferPool;
import io.undertow.protocols.ssl.UndertowXnioSsl;
import java.net.URI;
import java.security.NoSuchAlgorithmException;
import java.util.function.Supplier;
import javax.net.ssl.SSLContext;
import org.xnio.OptionMap;
import org.xnio.Xnio;
import org.xnio.XnioWorker;
import org.xnio.ssl.XnioSsl;

/**
 * The kernel's {@link UpstreamHttp}: pools of HTTP/1.1 connections on the gateway's own IO threads.
 *
 * <p>Deployments are built before the gateway's IO threads exist (their count is configuration), and some never
 * serve at all ({@code validate}): pools open without I/O and find the worker at their first call, once the gateway
 * has {@link #attach attached} it. A call made while none is attached fails as if its pool were closed.
 */
public final class IoUpstreamHttp implements UpstreamHttp {

    /** The size of the buffers requests are written and answers read through, as the API listener's. */
    private static final int BUFFER_BYTES = 16 * 1024;

    private final ByteBufferPool buffers = new BufferPool(true, BUFFER_BYTES);
    private final Supplier<SSLContext> trust;
    private volatile XnioWorker worker;
    private volatile XnioSsl tls;

    /** Pools whose {@code https} servers are trusted as the JVM's default TLS context trusts them. */
    public IoUpstreamHttp() {
        this(IoUpstreamHttp::defaultContext);
    }

    /** Pools whose {@code https} servers are those {@code trust} trusts; the hostname is verified all the same. */
    IoUpstreamHttp(Supplier<SSLContext> trust) {
        this.trust = trust;
    }

    /** From now on, calls run on {@code ioThreads}, the IO threads the listeners serve on. */
    public void attach(XnioWorker ioThreads) {
        this.worker = ioThreads;
    }

    /** A pool of plain connections for an {@code http} server, of TLS ones for an {@code https} one. */
    @Override
    public UpstreamPool open(URI server, UpstreamSettings settings) {
        return new IoUpstreamPool(server, settings, () -> worker, buffers,
                "https".equalsIgnoreCase(server.getScheme()) ? tls() : null);
    }

    /** Made at the first {@code https} pool: loading the trust store takes a while, and most gateways need none. */
    private XnioSsl tls() {
        XnioSsl made = tls;
        if (made == null) {
            made = new UndertowXnioSsl(Xnio.getInstance(Undertow.class.getClassLoader()), OptionMap.EMPTY,
                    trust.get());
            tls = made;
        }
        return made;
    }

    private static SSLContext defaultContext() {
        try {
            return SSLContext.getDefault();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JVM has no default TLS context", e);
        }
    }
}
