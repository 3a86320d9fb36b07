package dev.modelgate.spi.upstream;

import java.net.URI;

/** Opens connection pools to upstream servers; offered to plugins by {@link dev.modelgate.spi.PluginContext}. */
public interface UpstreamHttp {

    /**
     * A pool of keep-alive connections to {@code server} ({@code http://host:port}, or {@code https://host:port} for
     * TLS connections whose certificate the JVM's trust store must trust and which must name the host; its path is
     * ignored), split among the IO threads, each call taking one of its own thread's. Connects lazily: opening a pool
     * does no I/O. The caller closes it.
     */
    UpstreamPool open(URI server, UpstreamSettings settings);
}
