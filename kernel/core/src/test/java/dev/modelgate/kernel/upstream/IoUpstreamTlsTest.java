package dev.modelgate.kernel.upstream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import dev.modelgate.kernel.testing.IoThreads;
import dev.modelgate.kernel.testing.SelfSignedCertificate;
import dev.modelgate.spi.Headers;
import dev.modelgate.spi.upstream.UpstreamAnswer;
import dev.modelgate.spi.upstream.UpstreamException;
import dev.modelgate.spi.upstream.UpstreamPool;
import dev.modelgate.spi.upstream.UpstreamRequest;
import dev.modelgate.spi.upstream.UpstreamSettings;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Pools of {@code https} servers connect over TLS, trust what their TLS context trusts, and verify that the
 * certificate names the server they called: a hosted model provider is reached over TLS, never in the clear.
 */
class IoUpstreamTlsTest {

    private static final UpstreamSettings SETTINGS = new UpstreamSettings(4, Duration.ofSeconds(2),
            Duration.ofSeconds(2), Duration.ofSeconds(60), Duration.ofMinutes(5));

    private final IoThreads io = new IoThreads();
    private final List<String> hosts = new CopyOnWriteArrayList<>();
    private SelfSignedCertificate certificate;
    private HttpsServer server;

    @BeforeEach
    void start(@TempDir Path folder) throws Exception {
        certificate = SelfSignedCertificate.create(folder);
        // Every loopback address, so that one the certificate does not name reaches it too.
        server = HttpsServer.create(new InetSocketAddress(0), 0);
        server.setHttpsConfigurator(new HttpsConfigurator(certificate.serverContext()));
        server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        server.createContext("/", exchange -> {
            hosts.add(exchange.getRequestHeaders().getFirst("Host"));
            byte[] body = "{\"over\":\"tls\"}".getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", "application/json");
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        server.createContext("/vanish", exchange -> {
            // A server that took the request and went away without answering: its connection closes.
            hosts.add(exchange.getRequestHeaders().getFirst("Host"));
            throw new IllegalStateException("no answer");
        });
        server.start();
    }

    @AfterEach
    void stop() throws Exception {
        server.stop(0);
        io.close();
    }

    @Test
    void anHttpsServerItsContextTrustsIsCalledOverTls() throws Exception {
        UpstreamPool pool = pool(certificate.clientContext(), "https://localhost:" + port());
        for (int i = 0; i < 2; i++) {
            UpstreamAnswer answer = pool.send(get()).toCompletableFuture().get(10, TimeUnit.SECONDS);
            assertEquals(200, answer.status());
            assertEquals("{\"over\":\"tls\"}", new String(answer.bytes(), StandardCharsets.UTF_8));
        }
        assertEquals(List.of("localhost:" + port(), "localhost:" + port()), hosts);
        pool.close();
    }

    @Test
    void aCertificateNotTrustedOrNotNamingTheServerFailsTheCallBeforeAnyRequest() throws Exception {
        UpstreamPool untrusted = pool(SSLContext.getDefault(), "https://localhost:" + port());
        UpstreamPool misnamed = pool(certificate.clientContext(), "https://127.0.0.2:" + port());

        failure(untrusted);
        failure(misnamed);

        assertEquals(List.of(), hosts, "no request went out on a connection whose server was not verified");
        untrusted.close();
        misnamed.close();
    }

    @Test
    void aConnectionThatCarriedTheWholeRequestAndClosedUnansweredBrokeRatherThanFailedToConnect() throws Exception {
        UpstreamPool pool = pool(certificate.clientContext(), "https://localhost:" + port());
        CompletionException thrown = assertThrows(CompletionException.class, () -> pool.send(new UpstreamRequest(
                "POST", "/vanish", new Headers(), "{}".getBytes(StandardCharsets.UTF_8), TimeUnit.SECONDS.toNanos(10),
                1 << 20, Integer.MAX_VALUE)).toCompletableFuture().orTimeout(10, TimeUnit.SECONDS).join());
        UpstreamException failure = assertInstanceOf(UpstreamException.class, thrown.getCause());
        // The server may have acted on it: not a failure to connect, which a caller may retry as never sent.
        assertEquals(UpstreamException.Kind.BROKEN, failure.kind(), failure.getMessage());
        assertEquals(List.of("localhost:" + port()), hosts);
        pool.close();
    }

    private int port() {
        return server.getAddress().getPort();
    }

    private UpstreamPool pool(SSLContext trust, String url) {
        IoUpstreamHttp upstream = new IoUpstreamHttp(() -> trust);
        upstream.attach(io.worker());
        return upstream.open(URI.create(url), SETTINGS);
    }

    private static UpstreamRequest get() {
        return new UpstreamRequest("GET", "/v1/models", new Headers(), null, TimeUnit.SECONDS.toNanos(10), 1 << 20,
                Integer.MAX_VALUE);
    }

    /** The call fails as one that could not connect, which tells of the certificate. */
    private static void failure(UpstreamPool pool) {
        CompletionException thrown = assertThrows(CompletionException.class,
                () -> pool.send(get()).toCompletableFuture().orTimeout(10, TimeUnit.SECONDS).join());
        UpstreamException failure = assertInstanceOf(UpstreamException.class, thrown.getCause());
        assertEquals(UpstreamException.Kind.CONNECT_FAILED, failure.kind(), failure.getMessage());
        assertTrue(failure.getMessage().contains("certificate"), failure.getMessage());
    }
}
