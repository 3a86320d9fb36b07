package dev.modelgate.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.modelgate.kernel.testing.RawHttp;
import dev.modelgate.kernel.testing.RunningGateway;
import dev.modelgate.kernel.testing.SelfSignedCertificate;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TlsListenerTest {

    @TempDir
    static Path folder;
    private static SelfSignedCertificate certificate;
    private static RunningGateway gateway;

    @BeforeAll
    static void start() throws Exception {
        certificate = SelfSignedCertificate.create(folder);
        gateway = RunningGateway.start(tlsConfig(certificate.keyFile()), null, Map.of());
    }

    /** The echo route on loopback over TLS with the test certificate and {@code keyFile} as its key. */
    private static String tlsConfig(Path keyFile) {
        return """
                server:
                  address: 127.0.0.1
                  tls:
                    cert-file: %s
                    key-file: %s
                """.formatted(certificate.certFile(), keyFile) + RunningGateway.ECHO_ROUTE;
    }

    @AfterAll
    static void stop() throws Exception {
        gateway.close();
    }

    private static HttpResponse<String> predictOver(HttpClient.Version version) throws Exception {
        HttpClient client = HttpClient.newBuilder().version(version).sslContext(certificate.clientContext())
                .connectTimeout(Duration.ofSeconds(5)).build();
        return client.send(HttpRequest.newBuilder(URI.create("https://localhost:" + gateway.port()
                        + "/v1/models/m:predict")).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"instances\":[[1]]}")).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void theApiIsServedOverHttp2NegotiatedWithAlpn() throws Exception {
        HttpResponse<String> response = predictOver(HttpClient.Version.HTTP_2);

        assertEquals(200, response.statusCode(), response.body());
        assertEquals(HttpClient.Version.HTTP_2, response.version());
    }

    @Test
    void http11ClientsAreServedToo() throws Exception {
        HttpResponse<String> response = predictOver(HttpClient.Version.HTTP_1_1);

        assertEquals(200, response.statusCode());
        assertEquals(HttpClient.Version.HTTP_1_1, response.version());
    }

    @Test
    void tls12AndTls13AreAcceptedAndNothingOlder() throws Exception {
        assertEquals("TLSv1.2", handshake("TLSv1.2"));
        assertEquals("TLSv1.3", handshake("TLSv1.3"));
        assertThrows(Exception.class, () -> handshake("TLSv1.1"));
    }

    private static String handshake(String protocol) throws Exception {
        try (SSLSocket socket = (SSLSocket) certificate.clientContext().getSocketFactory()
                .createSocket("127.0.0.1", gateway.port())) {
            socket.setEnabledProtocols(new String[] {protocol});
            socket.setSoTimeout(5000);
            socket.startHandshake();
            return socket.getSession().getProtocol();
        }
    }

    @Test
    void plainHttpOnTheTlsPortGetsNoAnswer() {
        RawHttp.Reply reply = RawHttp.send(gateway.port(), "GET /v1/models HTTP/1.1\r\nHost: x\r\n\r\n",
                Duration.ofSeconds(5));

        assertTrue(reply.status() != 200, reply.text());
    }

    @Test
    void anUnreadableKeyIsAConfigurationProblemNamingTheKey() {
        Deployment.InvalidConfigException failure = assertThrows(Deployment.InvalidConfigException.class, () ->
                RunningGateway.start(tlsConfig(certificate.certFile())).close());

        assertTrue(failure.problems().getFirst().startsWith("server.tls.key-file: expected an unencrypted PKCS#8 key"),
                failure.problems().toString());
    }
}
