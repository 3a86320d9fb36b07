package dev.modelgate.kernel;

import dev.modelgate.spi.Headers;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.HeaderMap;
import io.undertow.util.HeaderValues;
import io.undertow.util.HttpString;
import java.net.InetSocketAddress;
import java.util.Deque;
import java.util.function.Consumer;

/** A request on the API listener. */
record UndertowTransport(HttpServerExchange http) implements Transport {

    /** HttpString compares without regard to case, with a cached hash: no lower-casing per header. */
    private static final java.util.Set<HttpString> HOP_BY_HOP = java.util.Set.of("connection", "keep-alive",
                    "proxy-connection", "proxy-authenticate", "proxy-authorization", "te", "trailer",
                    "transfer-encoding", "upgrade").stream().map(HttpString::new)
            .collect(java.util.stream.Collectors.toUnmodifiableSet());

    @Override
    public String method() {
        return http.getRequestMethod().toString();
    }

    @Override
    public String path() {
        return http.getRequestPath();
    }

    @Override
    public String queryParameter(String name) {
        Deque<String> values = http.getQueryParameters().get(name);
        return values == null ? null : values.peekFirst();
    }

    @Override
    public String peerAddress() {
        InetSocketAddress peer = http.getSourceAddress();
        return peer == null || peer.getAddress() == null ? "" : peer.getAddress().getHostAddress();
    }

    /**
     * Undertow completes the exchange once the last byte is written or the connection failed; a failure the writer
     * saw is attached under {@link ResponseWriter#WRITE_FAILURE}.
     */
    @Override
    public void whenComplete(Consumer<Throwable> done) {
        http.addExchangeCompleteListener((exchange, next) -> {
            done.accept(exchange.getAttachment(ResponseWriter.WRITE_FAILURE));
            next.proceed();
        });
    }

    /** Told by {@link StrictHttp1}, which reads an HTTP/1.1 connection for its end while a request is served. */
    @Override
    public void whenClientGone(Runnable gone) {
        StrictHttp1.whenClientGone(http, gone);
    }

    /**
     * The request headers a pipeline may see and pass on: without hop-by-hop headers, those the {@code Connection}
     * header names, and the gateway's own {@code X-Modelgate-*} headers, which a client must never set.
     */
    Headers passableHeaders() {
        java.util.Set<HttpString> connectionScoped = connectionScoped(
                http.getRequestHeaders().get(io.undertow.util.Headers.CONNECTION));
        Headers headers = new Headers();
        HeaderMap all = http.getRequestHeaders();
        // The cursor and index forms iterate without the iterators the for-each forms make per header.
        for (long cursor = all.fastIterateNonEmpty(); cursor != -1L; cursor = all.fiNextNonEmpty(cursor)) {
            HeaderValues values = all.fiCurrent(cursor);
            HttpString header = values.getHeaderName();
            String name = header.toString();
            if (!HOP_BY_HOP.contains(header) && !connectionScoped.contains(header) && !RealExchange.isGatewayHeader(name)) {
                for (int i = 0; i < values.size(); i++) {
                    headers.add(name, values.get(i));
                }
            }
        }
        return headers;
    }

    /**
     * The headers that describe the client's connection rather than the request (RFC 9110, section 7.6.1), beyond the
     * fixed hop-by-hop ones: those the {@code Connection} header names. Never passed on.
     */
    private static java.util.Set<HttpString> connectionScoped(HeaderValues connection) {
        if (connection == null) {
            return java.util.Set.of();
        }
        java.util.Set<HttpString> named = new java.util.HashSet<>();
        for (String listed : connection) {
            for (String token : listed.split(",")) {
                if (!token.isBlank()) {
                    named.add(new HttpString(token.strip()));
                }
            }
        }
        return named;
    }
}
