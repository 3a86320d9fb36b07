package dev.modelgate.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.modelgate.kernel.testing.TestBackend;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.io.TempDir;

/**
 * A rolling restart under load costs nothing: 50 keep-alive clients send predict requests through the packaged jar,
 * SIGTERM arrives while requests are in flight, and every request a client sent gets a whole answer, either the
 * model's or a 503 envelope (30001) telling it to go elsewhere; never a reset, never an empty reply. A client whose
 * connection the answer closed reconnects; one refused at connect (the listener closed) sent nothing and goes elsewhere.
 * Repeated five times: drain bugs are timing bugs.
 */
class DrainUnderLoadIT {

    private static final int CLIENTS = 50;
    private static final String BODY = "{\"instances\":[[1.0,2.0]]}";
    private static final Duration BACKEND_TIME = Duration.ofMillis(400);

    @TempDir
    Path folder;

    /** How one client's requests ended. */
    private static final class Tally {
        final AtomicInteger answered = new AtomicInteger();
        final AtomicInteger answeredAfterSigterm = new AtomicInteger();
        final AtomicInteger turnedAway = new AtomicInteger();
        final AtomicInteger refusedAtConnect = new AtomicInteger();
        final ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
    }

    @RepeatedTest(5)
    void sigtermUnderLoadFailsNoRequest() throws Exception {
        try (TestBackend backend = TestBackend.start(request -> TestBackend.Reply.delayed(BACKEND_TIME, 200,
                "application/json", "{\"predictions\":[[0.1,0.9]]}"))) {
            Path config = folder.resolve("gateway.yaml");
            Files.writeString(config, """
                    server:
                      drain-delay: 100ms
                      shutdown-timeout: 10s
                    backends:
                      remote:
                        type: http
                        url: %s
                        max-connections: 100
                    routes:
                      - model: remote
                        backend: remote
                    """.formatted(backend.url("/v1/models/remote:predict")));
            GatewayProcess gateway = GatewayProcess.serve(folder, Map.of(), "--config", config.toString());
            Tally tally = new Tally();
            AtomicBoolean sigtermSent = new AtomicBoolean();
            CountDownLatch done = new CountDownLatch(CLIENTS);
            List<Thread> clients = new ArrayList<>();
            try {
                for (int i = 0; i < CLIENTS; i++) {
                    clients.add(Thread.ofVirtual().start(() -> {
                        try {
                            runClient(gateway.port(), tally, sigtermSent);
                        } finally {
                            done.countDown();
                        }
                    }));
                }
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                while (tally.answered.get() < 4 * CLIENTS && System.nanoTime() < deadline) {
                    TimeUnit.MILLISECONDS.sleep(20);
                }
                assertTrue(tally.answered.get() >= 4 * CLIENTS, "the load ran: " + tally.answered.get());

                sigtermSent.set(true);
                gateway.sigterm();

                assertTrue(done.await(30, TimeUnit.SECONDS), "every client finished");
                assertEquals(0, gateway.awaitExit(), "the drained gateway exits 0");
            } finally {
                gateway.close();
                clients.forEach(Thread::interrupt);
            }
            assertTrue(tally.failures.isEmpty(), tally.failures.size() + " failed requests: " + tally.failures
                    + "; answered " + tally.answered + " (" + tally.answeredAfterSigterm + " after SIGTERM), turned away "
                    + tally.turnedAway + ", refused at connect " + tally.refusedAtConnect);
            assertTrue(tally.answeredAfterSigterm.get() > 0, "requests in flight at SIGTERM were answered");
            assertEquals(CLIENTS, tally.turnedAway.get() + tally.refusedAtConnect.get(),
                    "each client was told to go elsewhere");
        }
    }

    /** Sends requests, keep-alive, until the gateway turns it away; records every request's outcome. */
    private static void runClient(int port, Tally tally, AtomicBoolean sigtermSent) {
        Socket socket = null;
        InputStream in = null;
        try {
            while (true) {
                if (socket == null) {
                    socket = new Socket();
                    try {
                        socket.connect(new InetSocketAddress("127.0.0.1", port), 5000);
                        in = new BufferedInputStream(socket.getInputStream());
                    } catch (ConnectException e) {
                        if (sigtermSent.get()) {
                            tally.refusedAtConnect.incrementAndGet();
                        } else {
                            tally.failures.add("connect refused before SIGTERM");
                        }
                        return;
                    }
                    socket.setSoTimeout(20_000);
                }
                Answer answer;
                try {
                    answer = exchange(socket.getOutputStream(), in);
                } catch (IOException e) {
                    tally.failures.add(e.toString());
                    return;
                }
                if (answer.status() == 503 && answer.body().contains("\"code\":30001")) {
                    tally.turnedAway.incrementAndGet();
                    return;
                }
                if (answer.status() != 200 || !answer.body().contains("\"predictions\"")) {
                    tally.failures.add(answer.status() + " " + answer.body());
                    return;
                }
                tally.answered.incrementAndGet();
                if (sigtermSent.get()) {
                    tally.answeredAfterSigterm.incrementAndGet();
                }
                if (answer.closes()) {
                    socket.close();
                    socket = null;
                }
            }
        } catch (IOException e) {
            tally.failures.add("client: " + e);
        } finally {
            if (socket != null) {
                try {
                    socket.close();
                } catch (IOException e) {
                    // closing
                }
            }
        }
    }

    private record Answer(int status, boolean closes, String body) {
    }

    /** One request and its whole answer; an empty, cut or reset answer throws. */
    private static Answer exchange(OutputStream out, InputStream in) throws IOException {
        out.write(("POST /v1/models/remote:predict HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                + "Content-Length: " + BODY.length() + "\r\n\r\n" + BODY).getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
        String statusLine = line(in);
        if (!statusLine.startsWith("HTTP/1.1 ")) {
            throw new IOException("not a status line: '" + statusLine + "'");
        }
        int length = -1;
        boolean closes = false;
        for (String header = line(in); !header.isEmpty(); header = line(in)) {
            String lower = header.toLowerCase(Locale.ROOT);
            if (lower.startsWith("content-length:")) {
                length = Integer.parseInt(lower.substring(15).strip());
            } else if (lower.startsWith("connection:") && lower.contains("close")) {
                closes = true;
            }
        }
        if (length < 0) {
            throw new IOException("no Content-Length in '" + statusLine + "'");
        }
        byte[] body = in.readNBytes(length);
        if (body.length < length) {
            throw new EOFException("answer cut after " + body.length + " of " + length + " bytes");
        }
        return new Answer(Integer.parseInt(statusLine.substring(9, 12)), closes,
                new String(body, StandardCharsets.UTF_8));
    }

    private static String line(InputStream in) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        for (int b = in.read(); b != '\n'; b = in.read()) {
            if (b < 0) {
                throw new EOFException(line.size() == 0 ? "empty reply" : "answer cut in a line");
            }
            if (b != '\r') {
                line.write(b);
            }
        }
        return line.toString(StandardCharsets.ISO_8859_1);
    }
}
