package dev.modelgate.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.modelgate.kernel.fixtures.EchoBackendProvider;
import dev.modelgate.kernel.testing.RawHttp;
import dev.modelgate.kernel.testing.RunningGateway;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Every message RFC 9112 calls invalid and every request limit, written byte for byte on a socket: each is answered
 * with its status and its own code in an envelope, then the connection is closed, and a request sent after it on the
 * same connection is never served (what request smuggling would need).
 */
class StrictHttpTest {

    private static final String BODY = "{\"instances\":[[1]]}";
    private static final Duration TIMEOUT = Duration.ofSeconds(10);
    private static final int MAX_HEADER_BYTES = 4096;
    private static final int MAX_HEADERS = 20;
    private static final int MAX_URI = 1024;
    private static final int MAX_BODY = 64 * 1024;
    /** A valid request for the model that only a smuggled request would reach. */
    private static final String SMUGGLED = "POST /v1/models/secret:predict HTTP/1.1\r\nHost: localhost\r\n"
            + "Content-Type: application/json\r\nContent-Length: " + BODY.length() + "\r\n\r\n" + BODY;
    private static final java.util.regex.Pattern STATUS_LINE = java.util.regex.Pattern.compile("HTTP/1\\.1 \\d{3} ");
    private static RunningGateway gateway;

    @BeforeAll
    static void start() throws Exception {
        gateway = RunningGateway.start("""
                server:
                  max-header-size: %d
                  max-header-count: %d
                  max-uri-length: %d
                  max-body-size: %d
                backends:
                  echo:
                    type: echo
                  secret:
                    type: echo
                    tag: SMUGGLED-THROUGH
                routes:
                  - model: open
                    backend: echo
                  - model: secret
                    backend: secret
                """.formatted(MAX_HEADER_BYTES, MAX_HEADERS, MAX_URI, MAX_BODY));
    }

    @AfterAll
    static void stop() throws Exception {
        gateway.close();
    }

    private static RawHttp.Reply raw(String request) {
        return RawHttp.send(gateway.port(), request, TIMEOUT);
    }

    /** The answer is one response with {@code status} and {@code code}, the connection closed, nothing smuggled. */
    private static void assertRefused(RawHttp.Reply reply, int status, int code) {
        assertEquals(status, reply.status(), reply.text());
        assertTrue(reply.text().contains("\"code\":" + code), reply.text());
        assertTrue(reply.text().toLowerCase(java.util.Locale.ROOT).contains("\r\nconnection: close\r\n"), reply.text());
        assertTrue(reply.closedByServer(), "the connection is closed: " + reply.text());
        assertEquals(1, STATUS_LINE.matcher(reply.text()).results().count(), "one answer only: " + reply.text());
        assertFalse(reply.text().contains("SMUGGLED-THROUGH"), "no smuggled request was served");
    }

    /** Served when {@code status} is 200, else refused with {@code status} and {@code code}. */
    private static void assertServedOrRefused(RawHttp.Reply reply, int status, int code) {
        if (status == 200) {
            assertEquals(200, reply.status(), reply.text());
        } else {
            assertRefused(reply, status, code);
        }
    }

    private static String head(String path, String headers) {
        return "POST " + path + " HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n" + headers;
    }

    private static String chunked(String headers, String chunks) {
        return head("/v1/models/open:predict", "Transfer-Encoding: chunked\r\n" + headers) + "\r\n" + chunks;
    }

    @Test
    void theModelOnlyASmuggledRequestWouldReachAnswersWithItsTagWhenAskedOpenly() {
        // Else the assertion that no answer carries the tag could never fail.
        assertTrue(raw(SMUGGLED.replace("Host: localhost\r\n", "Host: localhost\r\nConnection: close\r\n")).text()
                .contains("SMUGGLED-THROUGH"));
    }

    @ParameterizedTest(name = "Transfer-Encoding: {0}")
    @CsvSource(delimiter = '|', value = {
        "chunked, chunked|400|20021", "chunked, gzip|400|20021", "gzip|400|20021", "identity|400|20021",
        "gzip, chunked|501|20022", "x-custom, chunked|501|20022", "chunked;q=1|400|20021",
    })
    void transferEncodingOtherThanOneFinalChunkedIsRefused(String codings, int status, int code) {
        RawHttp.Reply reply = raw(head("/v1/models/open:predict", "Transfer-Encoding: " + codings + "\r\n") + "\r\n"
                + Integer.toHexString(BODY.length()) + "\r\n" + BODY + "\r\n0\r\n\r\n" + SMUGGLED);

        assertRefused(reply, status, code);
    }

    @Test
    void transferEncodingSplitOverTwoHeaderLinesIsRefused() {
        assertRefused(raw(chunked("Transfer-Encoding: chunked\r\n", "0\r\n\r\n" + SMUGGLED)), 400, 20021);
    }

    @Test
    void contentLengthWithTransferEncodingIsRefused() {
        int calls = EchoBackendProvider.calls();

        RawHttp.Reply reply = raw(chunked("Content-Length: 4\r\n", Integer.toHexString(BODY.length()) + "\r\n" + BODY
                + "\r\n0\r\n\r\n" + SMUGGLED));

        assertRefused(reply, 400, 20021);
        assertEquals(calls, EchoBackendProvider.calls(), "neither request reached a backend");
    }

    @ParameterizedTest(name = "Content-Length: {0}")
    @CsvSource(delimiter = '|', value = {"abc", "-1", "1 9", "+19", "0x13", "99999999999999999999", "19, 19"})
    void anInvalidContentLengthIsRefused(String length) {
        assertRefused(raw(head("/v1/models/open:predict", "Content-Length: " + length + "\r\n") + "\r\n" + BODY
                + SMUGGLED), 400, 20021);
    }

    @Test
    void twoContentLengthsAreRefused() {
        assertRefused(raw(head("/v1/models/open:predict", "Content-Length: " + BODY.length() + "\r\nContent-Length: "
                + BODY.length() + "\r\n") + "\r\n" + BODY + SMUGGLED), 400, 20021);
    }

    @ParameterizedTest(name = "chunks {0}")
    @CsvSource(delimiter = '|', value = {
        "zz\\r\\n", "\\r\\n", "-1\\r\\n", "1 2\\r\\n", "fffffffffffffffffff\\r\\n", "8000000000000000\\r\\n",
        "2\\r\\nabc\\r\\n0\\r\\n\\r\\n", "2\\r\\nab\\n0\\r\\n\\r\\n", "2\\nab\\r\\n0\\r\\n\\r\\n",
        "2\\r\\nab\\r\\n0\\r\\nX-Trailer: a\\u0000b\\r\\n\\r\\n",
    })
    void invalidChunkFramingIsRefused(String chunks) {
        String decoded = chunks.replace("\\r", "\r").replace("\\n", "\n").replace("\\u0000", "\u0000");

        assertRefused(raw(chunked("", decoded + SMUGGLED)), 400, decoded.contains("X-Trailer") ? 20023 : 20021);
    }

    @Test
    void aValidChunkedBodyWithExtensionsAndTrailersIsServedAndTheConnectionKeptAlive() {
        RawHttp.Reply reply = raw(chunked("", "5;ext=1\r\n{\"ins\r\n" + Integer.toHexString(BODY.length() - 5)
                + "\r\n" + BODY.substring(5) + "\r\n0\r\nX-Trailer: yes\r\n\r\n"
                + "GET /v1/models/open HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"));

        assertEquals(200, reply.status(), reply.text());
        assertEquals(2, reply.text().split("HTTP/1.1 200", -1).length - 1, "both requests answered: " + reply.text());
    }

    @Test
    void aBadChunkAfterOneHundredContinueIsStillAnsweredWithItsCode() throws Exception {
        try (java.net.Socket socket = new java.net.Socket("127.0.0.1", gateway.port())) {
            socket.setSoTimeout((int) TIMEOUT.toMillis());
            var out = socket.getOutputStream();
            out.write(chunked("Expect: 100-continue\r\n", "").getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            byte[] interim = new byte[25];
            int read = socket.getInputStream().read(interim);
            assertTrue(new String(interim, 0, read, StandardCharsets.ISO_8859_1).startsWith("HTTP/1.1 100"));
            out.write("zz\r\n".getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            String rest = new String(socket.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);

            assertRefused(new RawHttp.Reply(rest.substring(rest.indexOf("HTTP/1.1 4")), true), 400, 20021);
        }
    }

    @ParameterizedTest(name = "header line {0}")
    @CsvSource(delimiter = '|', value = {
        "X-Nul: a\\u0000b", "X-Bare-Cr: a\\rb", "X-Bell: a\\u0007b", "X-Del: a\\u007fb", "Bad Name: x", "X-Space : x",
        "\\tX-Tab-Start: x", "X-Folded: a\\r\\n b", ": no name", "X-Bare-Lf: a\\nX-Next: b", "X-Colon-Less",
    })
    void invalidHeaderLinesAreRefused(String line) {
        String decoded = line.replace("\\r", "\r").replace("\\n", "\n").replace("\\t", "\t")
                .replace("\\u0000", "\u0000").replace("\\u0007", "\u0007").replace("\\u007f", "\u007f");

        assertRefused(raw(head("/v1/models/open:predict", decoded + "\r\nContent-Length: " + BODY.length() + "\r\n")
                + "\r\n" + BODY + SMUGGLED), 400, 20023);
    }

    @ParameterizedTest(name = "Host {0}")
    @CsvSource(delimiter = '|', value = {
        "Host: a b\\r\\n", "Host: a/b\\r\\n", "Host: a@b:c:d\\r\\n", "Host: [::1\\r\\n", "Host: a:99999999\\r\\n",
        "Host: a\\r\\nHost: b\\r\\n", "''",
    })
    void anInvalidOrMissingHostIsRefused(String hosts) {
        String decoded = hosts.replace("\\r", "\r").replace("\\n", "\n");

        assertRefused(raw("POST /v1/models/open:predict HTTP/1.1\r\n" + decoded + "Content-Type: application/json\r\n"
                + "Content-Length: " + BODY.length() + "\r\n\r\n" + BODY + SMUGGLED), 400, 20024);
    }

    @ParameterizedTest(name = "request line {0}")
    @CsvSource(delimiter = '|', value = {
        "POST  /v1/models/open:predict HTTP/1.1|400|20025", "POST /v1/models/open:predict  HTTP/1.1|400|20025",
        "'POST /v1/models/open:predict HTTP/1.1 '|400|20025", "POST /v1/models/<open>:predict HTTP/1.1|400|20025",
        "POST /v1/models/open:predict#x HTTP/1.1|400|20025", "P(ST /v1/models/open:predict HTTP/1.1|400|20025",
        "POST /v1/models/open:predict http/1.1|400|20025", "POST /v1/models/open:predict HTTP/2.0|505|20026",
        "POST /v1/models/open:predict HTTP/1.1\\n|400|20025", "\\r\\nPOST /v1/models/open:predict HTTP/1.1|400|20025",
    })
    void anInvalidRequestLineIsRefused(String line, int status, int code) {
        String decoded = line.replace("\\r", "\r").replace("\\n", "\n");

        assertRefused(raw(decoded + "\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: "
                + BODY.length() + "\r\n\r\n" + BODY + SMUGGLED), status, code);
    }

    @Test
    void theProtocolFrontsAnswerARefusalInTheirOwnShape() {
        RawHttp.Reply reply = raw("POST /v2/models/open/infer HTTP/1.1\r\nHost: localhost\r\nX-Nul: \u0000\r\n\r\n");

        assertRefused(reply, 400, 20023);
        assertTrue(reply.text().contains("{\"error\":"), reply.text());
    }

    // Limits, each just under, just over and far over.

    /** A request whose request line and headers take exactly {@code bytes}. */
    private static String withHeadBytes(int bytes) {
        String start = "POST /v1/models/open:predict HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                + "Content-Length: " + BODY.length() + "\r\nConnection: close\r\n";
        String padding = "X-Padding: ";
        int fill = bytes - start.length() - padding.length() - 4; // this line's CRLF and the empty line
        return start + padding + "x".repeat(fill) + "\r\n\r\n" + BODY;
    }

    @ParameterizedTest(name = "head of {0} bytes")
    @CsvSource({"4096, 200", "4097, 431", "600000, 431"})
    void headerBytes(int bytes, int status) {
        RawHttp.Reply reply = raw(withHeadBytes(bytes));

        assertServedOrRefused(reply, status, 20011);
    }

    @ParameterizedTest(name = "{0} header lines")
    @CsvSource({"20, 200", "21, 431", "5000, 431"})
    void headerCount(int lines, int status) {
        StringBuilder headers = new StringBuilder("Content-Length: " + BODY.length() + "\r\nConnection: close\r\n");
        for (int i = 4; i < lines; i++) { // Host, Content-Type, Content-Length, Connection
            headers.append("X-").append(i).append(": y\r\n");
        }
        // past the byte limit only at the far size, where the count is passed first
        RawHttp.Reply reply = raw(head("/v1/models/open:predict", headers.toString()) + "\r\n" + BODY);

        assertServedOrRefused(reply, status, 20028);
    }

    @ParameterizedTest(name = "target of {0} bytes")
    @CsvSource({"1024, 200", "1025, 414", "3000, 414"})
    void targetLength(int length, int status) {
        String path = "/v1/models/open:predict?pad=";
        RawHttp.Reply reply = raw(head(path + "x".repeat(length - path.length()), "Content-Length: " + BODY.length()
                + "\r\nConnection: close\r\n") + "\r\n" + BODY);

        assertServedOrRefused(reply, status, 20027);
    }

    /** A valid predict body of exactly {@code bytes}, padded with JSON whitespace. */
    private static String bodyOf(int bytes) {
        return BODY.substring(0, BODY.length() - 1) + " ".repeat(bytes - BODY.length()) + "}";
    }

    @ParameterizedTest(name = "body of {0} bytes")
    @CsvSource({"65536, 200", "65537, 413"})
    void bodySize(int bytes, int status) {
        RawHttp.Reply reply = raw(head("/v1/models/open:predict", "Content-Length: " + bytes
                + "\r\nConnection: close\r\n") + "\r\n" + bodyOf(bytes));

        assertServedOrRefused(reply, status, 20003);
    }

    @Test
    void bodySizeFarOverIsRefusedBeforeItIsSent() {
        assertRefused(raw(head("/v1/models/open:predict", "Content-Length: 1000000000000\r\n") + "\r\n{"), 413,
                20003);
    }

    @ParameterizedTest(name = "chunked body of {0} bytes")
    @CsvSource({"65536, 200", "65537, 413", "3000000, 413"})
    void chunkedBodySize(int bytes, int status) {
        String body = bodyOf(bytes);
        RawHttp.Reply reply = raw(chunked("Connection: close\r\n", Integer.toHexString(body.length()) + "\r\n" + body
                + "\r\n0\r\n\r\n"));

        assertServedOrRefused(reply, status, 20003);
    }

    private static byte[] gzip(String text) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream gzip = new GZIPOutputStream(out)) {
            gzip.write(text.getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    @ParameterizedTest(name = "{0} bytes once inflated")
    @CsvSource({"65536, 200", "65537, 413", "5000000, 413"})
    void inflatedSize(int bytes, int status) {
        byte[] compressed = gzip(bodyOf(bytes));
        RawHttp.Reply reply = raw(head("/v1/models/open:predict", "Content-Encoding: gzip\r\nContent-Length: "
                + compressed.length + "\r\nConnection: close\r\n") + "\r\n"
                + new String(compressed, StandardCharsets.ISO_8859_1));

        assertServedOrRefused(reply, status, 20029);
    }
}
