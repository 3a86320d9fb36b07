package dev.modelgate.kernel;

import io.undertow.UndertowOptions;
import io.undertow.connector.ByteBufferPool;
import io.undertow.protocols.ssl.UndertowXnioSsl;
import io.undertow.server.HttpHandler;
import io.undertow.server.OpenListener;
import io.undertow.server.protocol.http.AlpnOpenListener;
import io.undertow.server.protocol.http.HttpOpenListener;
import io.undertow.server.protocol.http2.Http2OpenListener;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.function.Supplier;
import org.xnio.ChannelListeners;
import org.xnio.IoUtils;
import org.xnio.OptionMap;
import org.xnio.Options;
import org.xnio.Sequence;
import org.xnio.StreamConnection;
import org.xnio.XnioWorker;
import org.xnio.channels.AcceptingChannel;

/**
 * The API listener, assembled from Undertow's parts rather than by its builder, for two things the builder cannot do:
 * put {@link StrictHttp1} in front of the HTTP/1.1 parser, and stop accepting connections (at drain) while the ones
 * already accepted are still being answered.
 */
final class ApiListener {

    /** Undertow's own buffer size for a large heap. */
    private static final int BUFFER_SIZE = 16 * 1024 - 20;
    /**
     * A header (name and value) Undertow may keep per connection: a JWT with a few claims, signed with RS256, fits.
     * At most 15 per connection, so a connection holds at most 15 KB of them.
     */
    private static final int MAX_CACHED_HEADER_BYTES = 1024;

    private final AcceptingChannel<? extends StreamConnection> channel;
    private final OpenListener open;
    /** The TLS layer whose context new handshakes use, {@code null} for plain HTTP. */
    private final UndertowXnioSsl ssl;

    private ApiListener(AcceptingChannel<? extends StreamConnection> channel, OpenListener open,
            UndertowXnioSsl ssl) {
        this.channel = channel;
        this.open = open;
        this.ssl = ssl;
    }

    /** Binds and starts accepting on {@code worker}'s IO threads. */
    static ApiListener start(XnioWorker worker, ServerSettings server, HttpHandler root,
            Supplier<Deployment> deployment) throws IOException {
        OptionMap options = undertowOptions(server);
        ByteBufferPool buffers = new BufferPool(true, BUFFER_SIZE);
        HttpOpenListener http = new HttpOpenListener(buffers, options);
        http.setRootHandler(root);
        StrictHttp1 strict = new StrictHttp1(http, () -> limits(deployment.get().server()),
                (refusal, target) -> deployment.get().fronts().frontOf(pathOf(target))
                        .error(refusal.errorCode(), refusal.detail()));
        InetSocketAddress address = new InetSocketAddress(InetAddress.getByName(server.address()), server.port());
        OptionMap socketOptions = OptionMap.builder()
                .set(Options.TCP_NODELAY, true)
                .set(Options.REUSE_ADDRESSES, true)
                .set(Options.BACKLOG, 1000)
                .set(Options.SSL_ENABLED_PROTOCOLS, Sequence.of(TlsContexts.PROTOCOLS))
                .getMap();
        if (server.tls() == null) {
            var channel = worker.createStreamConnectionServer(address, ChannelListeners.openListenerAdapter(strict),
                    socketOptions);
            channel.resumeAccepts();
            return new ApiListener(channel, strict, null);
        }
        Http2OpenListener http2 = new Http2OpenListener(buffers, options);
        http2.setRootHandler(root);
        AlpnOpenListener alpn = new AlpnOpenListener(buffers, options, strict);
        alpn.addProtocol(Http2OpenListener.HTTP2, http2, 10);
        UndertowXnioSsl ssl;
        try {
            ssl = new UndertowXnioSsl(worker.getXnio(), OptionMap.create(Options.USE_DIRECT_BUFFERS, true),
                    TlsContexts.create(server.tls()));
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalStateException("cannot set up TLS: " + e.getMessage(), e);
        }
        var channel = ssl.createSslConnectionServer(worker, address, ChannelListeners.openListenerAdapter(alpn),
                socketOptions);
        channel.resumeAccepts();
        return new ApiListener(channel, alpn, ssl);
    }

    private static OptionMap undertowOptions(ServerSettings server) {
        return OptionMap.builder()
                // Our own limit (max-body-size, answered 413 with a code) applies; Undertow's 2 MiB default would
                // cut larger bodies off with a bare 400 first.
                .set(UndertowOptions.MAX_ENTITY_SIZE, -1L)
                .set(UndertowOptions.ALWAYS_SET_DATE, true)
                // StrictHttp1 enforces the head limits with answers of ours; Undertow's own, which answer a bare 400,
                // sit above them so that they never trigger first.
                .set(UndertowOptions.MAX_HEADER_SIZE, 2 * server.maxHeaderBytes() + 1024)
                .set(UndertowOptions.MAX_HEADERS, server.maxHeaderCount() + 1)
                .set(UndertowOptions.MAX_PARAMETERS, server.maxUriBytes())
                // Undertow keeps a connection's last value of each header (15 at most) to match the next request's
                // bytes against instead of building a new string, but only below 150 bytes of name and value: a
                // bearer token, sent again on every request of a connection, was built byte by byte each time.
                .set(UndertowOptions.MAX_CACHED_HEADER_SIZE, MAX_CACHED_HEADER_BYTES)
                .set(UndertowOptions.REQUEST_PARSE_TIMEOUT, millis(server.headerTimeout()))
                .set(UndertowOptions.NO_REQUEST_TIMEOUT, millis(server.idleTimeout()))
                .set(UndertowOptions.IDLE_TIMEOUT, millis(server.idleTimeout()))
                .set(UndertowOptions.ENABLE_HTTP2, server.tls() != null)
                .set(UndertowOptions.HTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, server.http2MaxConcurrentStreams())
                .getMap();
    }

    static int millis(Duration duration) {
        return (int) Math.min(Integer.MAX_VALUE, duration.toMillis());
    }

    private static Http1Framing.Limits limits(ServerSettings server) {
        return new Http1Framing.Limits(server.maxHeaderBytes(), server.maxHeaderCount(), server.maxUriBytes());
    }

    /** The path of a request target as far as it was read: what picks the front whose error shape answers. */
    private static String pathOf(String target) {
        int start = target.startsWith("/") ? 0 : target.indexOf('/', target.indexOf("://") + 3);
        if (start < 0) {
            return "/";
        }
        int end = target.indexOf('?', start);
        return end < 0 ? target.substring(start) : target.substring(start, end);
    }

    /**
     * New handshakes use {@code context} (a certificate rotated by a reload); connections already open keep theirs.
     * Nothing to do on a plain HTTP listener.
     */
    void updateTls(javax.net.ssl.SSLContext context) {
        if (ssl != null) {
            ssl.updateSSLContext(context);
        }
    }

    int port() {
        return ((InetSocketAddress) channel.getLocalAddress()).getPort();
    }

    /**
     * Stops accepting: new connections are refused by the operating system; accepted ones are not touched, and the
     * ones the operating system completed but the listener had not taken yet are taken and answered (503 while
     * draining), not reset.
     */
    void stopAccepting() {
        ListenerClose.close(channel, open::handleEvent);
    }

    /** Closes every connection still open. */
    void closeConnections() {
        open.closeConnections();
    }
}
