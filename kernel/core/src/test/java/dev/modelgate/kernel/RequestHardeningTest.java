package dev.modelgate.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.modelgate.kernel.fixtures.EchoBackendProvider;
import dev.modelgate.kernel.testing.RawHttp;
import dev.modelgate.kernel.testing.RunningGateway;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Attacks on the request itself: sizes, path tricks, slow clients, spoofed gateway headers. Framing and smuggling:
 * {@link StrictHttpTest}.
 */
class RequestHardeningTest {

    private static final String BODY = "{\"instances\":[[1]]}";
    private static final Duration TIMEOUT = Duration.ofSeconds(10);
    private static RunningGateway gateway;

    @BeforeAll
    static void start() throws Exception {
        gateway = RunningGateway.start("""
                server:
                  max-header-size: 4KB
                  header-timeout: 500ms
                  body-timeout: 500ms
                backends:
                  echo:
                    type: echo
                routes:
                  - model: open
                    backend: echo
                """);
    }

    @AfterAll
    static void stop() throws Exception {
        gateway.close();
    }

    private static RawHttp.Reply raw(String request) {
        return RawHttp.send(gateway.port(), request, TIMEOUT);
    }

    private static String post(String path, String extraHeaders) {
        return "POST " + path + " HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n" + extraHeaders
                + "Content-Length: " + BODY.length() + "\r\nConnection: close\r\n\r\n" + BODY;
    }

    @Test
    void headersOverTheLimitAre431WithItsCodeAndNeverReachTheBackend() {
        int calls = EchoBackendProvider.calls();

        HttpResponse<String> response = gateway.post("/v1/models/open:predict", "application/json", BODY,
                "X-Padding", "x".repeat(5000));

        assertEquals(431, response.statusCode());
        assertTrue(response.body().contains("\"code\":20011"), response.body());
        assertEquals(calls, EchoBackendProvider.calls());
    }

    @Test
    void bodiesUpToTheConfiguredLimitAreServedPastUndertowsOwnDefault() {
        String rows = "[1.5],".repeat(600_000);
        String big = "{\"instances\":[" + rows + "[1.5]]}";

        HttpResponse<String> response = gateway.post("/v1/models/open:predict", "application/json", big);

        assertTrue(big.length() > 3_000_000);
        assertEquals(200, response.statusCode(), response.body().substring(0, Math.min(200, response.body().length())));
    }

    @Test
    void largeBodiesReachTheBackendWholeWithADeclaredLengthAndChunked() {
        StringBuilder rows = new StringBuilder();
        for (int i = 0; i < 40_000; i++) {
            rows.append(i == 0 ? "" : ",").append('[').append(i).append(']');
        }
        String body = "{\"instances\":[" + rows + "]}";
        byte[] bytes = body.getBytes(java.nio.charset.StandardCharsets.US_ASCII);

        HttpResponse<String> declared = gateway.post("/v1/models/open:predict", "application/json", body);
        // An input stream of unknown length goes chunked, in pieces unlike the reads the gateway makes.
        HttpResponse<String> chunked = RunningGateway.send(java.net.http.HttpRequest.newBuilder(
                gateway.uri("/v1/models/open:predict")).header("Content-Type", "application/json")
                .POST(java.net.http.HttpRequest.BodyPublishers.ofInputStream(
                        () -> new java.io.ByteArrayInputStream(bytes))));

        for (HttpResponse<String> response : java.util.List.of(declared, chunked)) {
            assertEquals(200, response.statusCode());
            assertTrue(response.body().contains("\"predictions\":[" + rows + "]"),
                    response.body().substring(0, Math.min(200, response.body().length())));
        }
    }

    @Test
    void aBodyThatTricklesInPastTheTimeoutIsRefusedAndTheConnectionClosed() {
        int calls = EchoBackendProvider.calls();

        RawHttp.Reply reply = raw("POST /v1/models/open:predict HTTP/1.1\r\nHost: localhost\r\n"
                + "Content-Type: application/json\r\nContent-Length: " + BODY.length() + "\r\n\r\n{");

        assertEquals(408, reply.status(), reply.text());
        assertTrue(reply.text().contains("\"code\":20013"), reply.text());
        assertTrue(reply.closedByServer());
        assertEquals(calls, EchoBackendProvider.calls());
    }

    @Test
    void aClientExpectingContinueIsToldToSendItsBody() throws Exception {
        try (java.net.Socket socket = new java.net.Socket("127.0.0.1", gateway.port())) {
            socket.setSoTimeout(5000);
            var out = socket.getOutputStream();
            out.write(("POST /v1/models/open:predict HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                    + "Expect: 100-continue\r\nContent-Length: " + BODY.length() + "\r\nConnection: close\r\n\r\n")
                    .getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
            out.flush();
            byte[] interim = new byte[25];
            int read = socket.getInputStream().read(interim);

            assertTrue(new String(interim, 0, read, java.nio.charset.StandardCharsets.ISO_8859_1)
                    .startsWith("HTTP/1.1 100"), "the client is told to go on before it sends the body");
            out.write(BODY.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
            out.flush();
            String rest = new String(socket.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.ISO_8859_1);
            assertTrue(rest.contains("HTTP/1.1 200"), rest);
        }
    }

    @Test
    void pathsNotInNormalFormAreRejectedBeforeRouting() {
        String[] tricks = {
            "/v1//models/open:predict", "//v1/models/open:predict", "/v1/models/./open:predict",
            "/v1/models/x/../open:predict", "/v1/./models/open:predict", "/v1/models/%6Fpen:predict",
            "/v1/models%2Fopen:predict", "/v1/models/open%3Apredict", "/v1/models/open;x=1:predict",
            "/v1/models;x=1/open:predict", "/v1/models/open:predict;", "/v1/models/%2e%2e/open:predict",
            "/v1/models/open\\:predict", "/v1/models/open%00:predict", "/v1/models/..",
        };
        int calls = EchoBackendProvider.calls();
        for (String path : tricks) {
            RawHttp.Reply reply = raw(post(path, ""));

            assertEquals(400, reply.status(), path + " -> " + reply.text());
        }
        assertEquals(calls, EchoBackendProvider.calls(), "no trick reached the backend");
        assertEquals(200, raw(post("/v1/models/open:predict", "")).status());
    }

    @Test
    void aNonNormalPathIsAnsweredWithItsCode() {
        HttpResponse<String> response = gateway.post("/v1/models/./open:predict", "application/json", BODY);

        assertEquals(400, response.statusCode());
        assertTrue(response.body().contains("\"code\":20010"), response.body());
    }

    @Test
    void aClientThatNeverFinishesItsHeadersIsCutOff() {
        long start = System.nanoTime();

        RawHttp.Reply reply = raw("POST /v1/models/open:predict HTTP/1.1\r\nHost: localhost\r\nX-Slow: 1\r\n");

        assertTrue(reply.closedByServer(), "the server closed the connection: " + reply.text());
        assertTrue(System.nanoTime() - start < TIMEOUT.toNanos(), "well before the client gave up");
    }

    @Test
    void hopByHopAndGatewayHeadersFromTheClientNeverReachTheBackend() {
        RawHttp.Reply reply = raw("POST /v1/models/open:predict HTTP/1.1\r\nHost: localhost\r\n"
                + "Content-Type: application/json\r\nContent-Length: " + BODY.length() + "\r\n"
                + "X-Modelgate-Subject: admin\r\nX-MODELGATE-Roles: admin\r\nX-Drop-Me: 1\r\nKeep-Alive: 5\r\n"
                + "Connection: close\r\nConnection: X-Drop-Me\r\nX-Kept: yes\r\n\r\n" + BODY);

        assertEquals(200, reply.status(), reply.text());
        String seen = reply.text().substring(reply.text().indexOf("\"headers\""));
        assertFalse(seen.contains("x-modelgate"), seen);
        assertFalse(seen.contains("x-drop-me"), seen);
        assertFalse(seen.contains("keep-alive"), seen);
        assertFalse(seen.contains("\"connection\""), seen);
        assertTrue(seen.contains("x-kept"), seen);
    }
}
