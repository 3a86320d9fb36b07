package dev.modelgate.kernel.upstream;

import static dev.modelgate.kernel.upstream.UpstreamCalls.failure;
import static dev.modelgate.kernel.upstream.UpstreamCalls.join;
import static dev.modelgate.kernel.upstream.UpstreamCalls.write;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.modelgate.kernel.testing.Await;
import dev.modelgate.kernel.testing.IoThreads;
import dev.modelgate.kernel.testing.RawHttp;
import dev.modelgate.kernel.testing.ScriptedServer;
import dev.modelgate.spi.Headers;
import dev.modelgate.spi.upstream.UpstreamAnswer;
import dev.modelgate.spi.upstream.UpstreamException;
import dev.modelgate.spi.upstream.UpstreamPool;
import dev.modelgate.spi.upstream.UpstreamRequest;
import dev.modelgate.spi.upstream.UpstreamSettings;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The pool's HTTP/1.1 on the wire, against servers on bare sockets: what it writes, how each framing of an answer is
 * read, which connections serve again, and which answers fail as malformed.
 */
class Http1ClientWireTest {

    private static final UpstreamSettings SETTINGS = new UpstreamSettings(1, Duration.ofSeconds(1),
            Duration.ofSeconds(5), Duration.ofSeconds(60), Duration.ofMinutes(5));

    private final IoThreads io = new IoThreads();

    @AfterEach
    void stop() throws Exception {
        io.close();
    }

    @Test
    void theRequestGoesOutAsItsHeadAndBodyWithTheFramingThePoolWrites() throws Exception {
        List<String> requests = new CopyOnWriteArrayList<>();
        ScriptedServer server = serve((socket, index) -> {
            requests.add(readRequest(socket.getInputStream()));
            write(socket, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
            socket.getInputStream().read();
        });
        UpstreamPool pool = pool(server);
        Headers headers = new Headers().set("Content-Type", "text/plain").set("Connection", "close")
                .set("Transfer-Encoding", "chunked").set("Content-Length", "99").set("Host", "elsewhere")
                .set("X-Split", "a\r\nInjected: yes").set("X-Controls", "a\u0000b\u0001c\u007fd\te")
                .set("Bad Name", "dropped");
        join(pool.send(new UpstreamRequest("POST", "/v1/m p?q=é", headers, "body".getBytes(StandardCharsets.UTF_8),
                TimeUnit.SECONDS.toNanos(10), 1024, Integer.MAX_VALUE)));
        assertEquals(List.of("POST /v1/m%20p?q=%C3%A9 HTTP/1.1\r\nHost: 127.0.0.1:" + server.port() + "\r\n"
                + "Content-Type: text/plain\r\nX-Split: a  Injected: yes\r\nX-Controls: a b c d\te\r\n"
                + "Content-Length: 4\r\n\r\nbody"), requests);
    }

    @Test
    void aHeaderWithoutANameIsNotWritten() throws Exception {
        List<String> requests = new CopyOnWriteArrayList<>();
        ScriptedServer server = serve((socket, index) -> {
            requests.add(readRequest(socket.getInputStream()));
            write(socket, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
            socket.getInputStream().read();
        });
        join(pool(server).send(new UpstreamRequest("GET", "/", new Headers().set("", "x").set("A", "1"), null,
                TimeUnit.SECONDS.toNanos(10), 1024, Integer.MAX_VALUE)));
        assertEquals(List.of("GET / HTTP/1.1\r\nHost: 127.0.0.1:" + server.port() + "\r\nA: 1\r\n\r\n"), requests);
    }

    @Test
    void aMethodThatIsNotATokenIsRefusedBeforeAnythingIsSent() {
        for (String method : new String[] {"", "GET / HTTP/1.1\r\nX-Injected: 1\r\n\r\nGET", "GET /", "G\u00c9T"}) {
            assertThrows(IllegalArgumentException.class, () -> new UpstreamRequest(method, "/", new Headers(), null,
                    TimeUnit.SECONDS.toNanos(10), 1024, Integer.MAX_VALUE), method);
        }
        new UpstreamRequest("M-SEARCH", "/", new Headers(), null, 1, 1, 1);
    }

    @Test
    void aMethodThatTakesABodySaysItsLengthWhenItHasNone() throws Exception {
        List<String> requests = new CopyOnWriteArrayList<>();
        ScriptedServer server = serve((socket, index) -> {
            while (true) {
                requests.add(readRequest(socket.getInputStream()));
                write(socket, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
            }
        });
        UpstreamPool pool = pool(server);
        for (String method : List.of("POST", "PUT", "PATCH", "GET")) {
            join(pool.send(get(method)));
        }
        String host = "Host: 127.0.0.1:" + server.port() + "\r\n";
        // RFC 9110 8.6: without it, a server that wants the length of a POST refuses it (411 Length Required).
        assertEquals(List.of("POST / HTTP/1.1\r\n" + host + "Content-Length: 0\r\n\r\n",
                "PUT / HTTP/1.1\r\n" + host + "Content-Length: 0\r\n\r\n",
                "PATCH / HTTP/1.1\r\n" + host + "Content-Length: 0\r\n\r\n", "GET / HTTP/1.1\r\n" + host + "\r\n"),
                requests);
    }

    @Test
    void interimAnswersAreSkipped() throws Exception {
        UpstreamPool pool = pool(answering("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
                + "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
        UpstreamAnswer answer = join(pool.send(get("GET")));
        assertEquals(200, answer.status());
        assertEquals("ok", text(answer));
    }

    @Test
    void answersWithoutABodyEndAtTheirHeadAndKeepTheConnection() throws Exception {
        ScriptedServer server = answering("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n",
                "HTTP/1.1 204 No Content\r\n\r\n", "HTTP/1.1 304 Not Modified\r\nContent-Length: 7\r\n\r\n");
        UpstreamPool pool = pool(server);
        UpstreamAnswer head = join(pool.send(get("HEAD")));
        assertEquals(0, head.declaredLength());
        assertEquals("", text(head));
        assertEquals(204, join(pool.send(get("GET"))).status());
        UpstreamAnswer notModified = join(pool.send(get("GET")));
        assertEquals(304, notModified.status());
        assertEquals("", text(notModified));
        assertEquals(1, server.accepted(), "one connection served the three");
    }

    @Test
    void aConnectionServesAgainOnlyAsTheAnswerAllows() throws Exception {
        ScriptedServer server = answering("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\na",
                "HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nb",
                "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 1\r\n\r\nc",
                "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nd");
        UpstreamPool pool = pool(server);
        for (String expected : List.of("a", "b", "c", "d")) {
            assertEquals(expected, text(join(pool.send(get("GET")))));
        }
        assertEquals(3, server.accepted(), "closed after a and b; c's connection served d");
    }

    @Test
    void aBodyWithoutLengthEndsAtTheClose() throws Exception {
        UpstreamPool pool = pool(answering("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nall of it"));
        UpstreamAnswer answer = join(pool.send(get("GET")));
        assertEquals(-1, answer.declaredLength());
        assertEquals("all of it", text(answer));
        Await.until("its connection closed", () -> pool.available() == 0 && pool.leased() == 0);
    }

    @Test
    void aChunkedBodyWithTrailersIsReadAndItsConnectionKept() throws Exception {
        ScriptedServer server = answering("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "3;x=y\r\nabc\r\n0\r\nChecksum: 1\r\n\r\n", "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nz");
        UpstreamPool pool = pool(server);
        assertEquals("abc", text(join(pool.send(get("GET")))));
        assertEquals("z", text(join(pool.send(get("GET")))));
        assertEquals(1, server.accepted());
    }

    @Test
    void aServerThatSaysMoreThanItsAnswerIsNotAskedAgain() throws Exception {
        ScriptedServer server = answering("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\n\r\n",
                "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nno");
        UpstreamPool pool = pool(server);
        assertEquals("ok", text(join(pool.send(get("GET")))));
        assertEquals("no", text(join(pool.send(get("GET")))));
        assertEquals(2, server.accepted(), "the first connection was not trusted with the second call");
    }

    @Test
    void bytesWaitingOnAFreedConnectionAreNotTakenForTheNextCallsAnswer() throws Exception {
        // The first answer ends exactly where a read of the pool's 16 KiB buffer does, and a second answer nobody
        // asked for follows it in the socket: the call waiting for the connection must not take it as its own.
        String head = "HTTP/1.1 200 OK\r\nContent-Length: 16342\r\n\r\n";
        String first = head + "a".repeat(16 * 1024 - head.length());
        ScriptedServer server = serve((socket, index) -> {
            boolean unasked = index == 0;
            while (RawHttp.readRequest(socket.getInputStream())) {
                write(socket, unasked ? first + "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nbogus"
                        : "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\ngood");
                unasked = false;
            }
        });
        UpstreamPool pool = pool(server);
        CompletionStage<UpstreamAnswer> answered = pool.send(get("GET"));
        CompletionStage<UpstreamAnswer> waiting = pool.send(get("GET"));
        assertEquals(16 * 1024, first.length());
        assertEquals(16342, text(join(answered)).length());
        assertEquals("good", text(join(waiting)));
    }

    @Test
    void anAnswerBeforeTheWholeRequestWentLeavesItsConnection() throws Exception {
        CountDownLatch refusalHeard = new CountDownLatch(1);
        ScriptedServer server = serve((socket, index) -> {
            InputStream in = socket.getInputStream();
            if (index > 0) {
                RawHttp.readRequest(in);
                write(socket, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
                in.read();
                return;
            }
            // Refuses the body once its head came, as a server whose limit it passes does, and reads it late.
            while (!readLine(in).isEmpty()) {
                continue;
            }
            write(socket, "HTTP/1.1 413 Too Large\r\nContent-Length: 0\r\n\r\n");
            refusalHeard.await(10, TimeUnit.SECONDS);
            in.transferTo(OutputStream.nullOutputStream());
        });
        UpstreamPool pool = pool(server);
        UpstreamAnswer refused = join(pool.send(new UpstreamRequest("POST", "/", new Headers(), new byte[16 << 20],
                TimeUnit.SECONDS.toNanos(10), 1024, Integer.MAX_VALUE)));
        assertEquals(413, refused.status());
        refusalHeard.countDown();
        assertEquals("ok", text(join(pool.send(get("GET")))));
        assertEquals(2, server.accepted(), "a connection with half a request on it is not asked again");
    }

    @Test
    void answersFramedAmbiguouslyOrTooLongAreMalformed() throws Exception {
        for (String answer : List.of("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok",
                "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok",
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 2\r\n\r\n2\r\nok\r\n0\r\n\r\n",
                "HTTP/1.1 200 OK\r\nX-Big: " + "x".repeat(AnswerParser.MAX_HEAD_BYTES) + "\r\n\r\n",
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\nbad trailer\r\n\r\n")) {
            UpstreamPool pool = pool(answering(answer));
            UpstreamException failure = failure(pool.send(get("GET")));
            assertEquals(UpstreamException.Kind.MALFORMED, failure.kind(), answer.substring(0, 50));
            Await.until("its connection closed", () -> pool.available() == 0 && pool.leased() == 0);
        }
    }

    @Test
    void aBodyDeclaredLongerThanAnArrayCanHoldIsTooLargeToReadWhole() throws Exception {
        // A limit past what one array holds (the openai backend's max-response-size has no cap): 3 GB does not fit.
        ScriptedServer server = serve((socket, index) -> {
            RawHttp.readRequest(socket.getInputStream());
            write(socket, "HTTP/1.1 500 Oops\r\nContent-Length: 3000000000\r\n\r\nsome");
            socket.getInputStream().read();
        });
        UpstreamPool pool = pool(server);
        UpstreamException failure = failure(pool.send(new UpstreamRequest("GET", "/", new Headers(), null,
                TimeUnit.SECONDS.toNanos(5), Long.MAX_VALUE, Integer.MAX_VALUE)));
        assertEquals(UpstreamException.Kind.TOO_LARGE, failure.kind(), failure.getMessage());
        Await.until("its connection closed", () -> pool.available() == 0 && pool.leased() == 0);
    }

    @Test
    void aStreamedBodyComesAsItsChunksDo() throws Exception {
        UpstreamPool pool = pool(answering("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "6\r\nevent\n\r\n6\r\nevent\n\r\n0\r\n\r\n"));
        UpstreamAnswer answer = join(pool.send(new UpstreamRequest("GET", "/", new Headers(), null,
                TimeUnit.SECONDS.toNanos(10), 1024, 64 * 1024)));
        assertNull(answer.bytes());
        assertArrayEquals("event\nevent\n".getBytes(StandardCharsets.US_ASCII), answer.stream().readAllBytes());
        Await.until("its connection back in the pool", () -> pool.available() == 1);
    }

    /** A server whose connections each take requests and answer them with {@code answers}, in turn, as written. */
    private ScriptedServer answering(String... answers) throws IOException {
        int[] next = {0};
        return serve((socket, index) -> {
            while (RawHttp.readRequest(socket.getInputStream())) {
                String answer;
                synchronized (next) {
                    answer = answers[next[0]++ % answers.length];
                }
                write(socket, answer);
                if (answer.contains("Connection: close") || answer.startsWith("HTTP/1.0")
                        && !answer.contains("keep-alive") || !answer.contains("Length") && !answer.contains("chunked")
                        && !answer.startsWith("HTTP/1.1 1") && !answer.contains(" 204 ")) {
                    return;
                }
            }
        });
    }

    private ScriptedServer serve(ScriptedServer.Script script) throws IOException {
        return io.track(new ScriptedServer(script));
    }

    private UpstreamPool pool(ScriptedServer server) {
        IoUpstreamHttp upstream = io.upstream();
        return io.track(upstream.open(URI.create("http://127.0.0.1:" + server.port()), SETTINGS));
    }

    private static UpstreamRequest get(String method) {
        return new UpstreamRequest(method, "/", new Headers(), null, TimeUnit.SECONDS.toNanos(10), 1 << 20,
                Integer.MAX_VALUE);
    }

    /** One request as it came: its head, and a body of its {@code Content-Length}. */
    private static String readRequest(InputStream in) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        while (!bytes.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
            bytes.write(in.read());
        }
        String head = bytes.toString(StandardCharsets.ISO_8859_1);
        int length = head.lines().filter(line -> line.startsWith("Content-Length: "))
                .mapToInt(line -> Integer.parseInt(line.substring(16))).findFirst().orElse(0);
        bytes.write(in.readNBytes(length));
        return bytes.toString(StandardCharsets.ISO_8859_1);
    }

    private static String readLine(InputStream in) throws IOException {
        StringBuilder line = new StringBuilder();
        for (int next = in.read(); next != '\n'; next = in.read()) {
            if (next < 0) {
                throw new IOException("the client closed");
            }
            line.append((char) next);
        }
        return line.toString().strip();
    }

    private static String text(UpstreamAnswer answer) {
        return new String(answer.bytes(), StandardCharsets.ISO_8859_1);
    }
}
