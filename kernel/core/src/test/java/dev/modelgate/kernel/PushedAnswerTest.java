package dev.modelgate.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.modelgate.kernel.fixtures.ProbeFilterProvider;
import dev.modelgate.kernel.fixtures.PushingBackendProvider;
import dev.modelgate.kernel.testing.Await;
import dev.modelgate.kernel.testing.RunningGateway;
import dev.modelgate.spi.StreamFailedException;
import java.io.IOException;
import java.io.InputStream;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Pushed bodies ({@link dev.modelgate.spi.PushBody}): written by the exchange's IO thread as the body writes, held back
 * while the client does not read (the body told to wait, and resumed once the client took it all), cancelled when the
 * client goes away, and ended whole or cut as the body says.
 */
class PushedAnswerTest {

    private static final String PATH = "/tfserving/v1/models/p:predict";
    private static final String BODY = "{\"instances\":[[1]]}";
    private static final HttpClient CLIENT = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @BeforeEach
    void reset() {
        PushingBackendProvider.reset();
    }

    private static RunningGateway gateway(String backend, boolean blockingFilter) throws Exception {
        return RunningGateway.start("""
                backends:
                  pushed:
                    type: pushing
                %s%s
                routes:
                  - model: p
                    backend: pushed
                """.formatted(backend.indent(4), blockingFilter
                ? "    filters:\n      - type: probe\n        name: pushed\n" : ""));
    }

    /** What the fixture's {@code pieces} pieces of {@code size} bytes add up to. */
    private static String pieces(int count, int size) {
        StringBuilder whole = new StringBuilder();
        for (int i = 0; i < count; i++) {
            whole.append(String.valueOf((char) ('a' + i % 26)).repeat(size));
        }
        return whole.toString();
    }

    private static HttpResponse<InputStream> open(RunningGateway gateway) throws Exception {
        HttpRequest request = HttpRequest.newBuilder(gateway.uri(PATH)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(BODY)).build();
        return CLIENT.send(request, HttpResponse.BodyHandlers.ofInputStream());
    }

    private static boolean onIoThread(Thread thread) {
        return thread != null && !thread.isVirtual() && thread.getName().startsWith("modelgate I/O");
    }

    @Test
    void aPushedAnswerIsWrittenWholeByTheIoThreadRequestAfterRequest() throws Exception {
        try (RunningGateway gateway = gateway("pieces: 3", false)) {
            for (int i = 0; i < 5; i++) {
                HttpResponse<String> response = gateway.post(PATH, "application/json", BODY);
                assertEquals(200, response.statusCode());
                assertEquals(pieces(3, 8), response.body());
                assertTrue(onIoThread(PushingBackendProvider.startedOn), "on " + PushingBackendProvider.startedOn);
            }
        }
    }

    @Test
    void aPushedAnswerOfARouteThatBlocksIsWrittenByTheIoThreadToo() throws Exception {
        try (RunningGateway gateway = gateway("pieces: 3", true)) {
            var completed = ProbeFilterProvider.completed("pushed", 1);
            HttpResponse<String> response = gateway.post(PATH, "application/json", BODY);

            assertEquals(pieces(3, 8), response.body());
            assertTrue(onIoThread(PushingBackendProvider.startedOn), "on " + PushingBackendProvider.startedOn);
            assertTrue(completed.await(10, TimeUnit.SECONDS));
            assertEquals(null, ProbeFilterProvider.completedWith("pushed"));
        }
    }

    @Test
    void aClientThatDoesNotReadHoldsTheBodyBackUntilItTakesItAll() throws Exception {
        holdsBack("pieces: 512\npiece-size: 65536");
    }

    @Test
    void aBodyWritingFromAnotherThreadIsHeldBackAlike() throws Exception {
        holdsBack("pieces: 512\npiece-size: 65536\nfrom-another-thread: true");
    }

    /** 32 MB, more than the sockets hold: the body must wait for the client, and the client gets all of it. */
    private static void holdsBack(String backend) throws Exception {
        try (RunningGateway gateway = gateway(backend, false)) {
            HttpResponse<InputStream> response = open(gateway);
            Await.until("the body told to wait", () -> PushingBackendProvider.WAITS.get() > 0);
            byte[] body;
            try (InputStream in = response.body()) {
                body = in.readAllBytes();
            }
            assertEquals(512 * 65536, body.length);
            for (int i = 0; i < 512; i++) {
                assertEquals((byte) ('a' + i % 26), body[i * 65536], "piece " + i);
                assertEquals((byte) ('a' + i % 26), body[i * 65536 + 65535], "piece " + i);
            }
            assertTrue(PushingBackendProvider.RESUMES.get() > 0);
            assertEquals(0, PushingBackendProvider.WRITES_WHILE_WAITING.get(), "written while told to wait");
            assertEquals(0, PushingBackendProvider.CANCELS.get());
        }
    }

    @Test
    void aClientThatGoesAwayCancelsTheBodyAtOnce() throws Exception {
        try (RunningGateway gateway = gateway("pieces: 100000\npiece-size: 65536", false)) {
            HttpResponse<InputStream> response = open(gateway);
            Await.until("the body told to wait", () -> PushingBackendProvider.WAITS.get() > 0);
            // Nothing more is written while the body waits: only the watch on the connection can tell.
            response.body().close();
            assertTrue(PushingBackendProvider.cancelled.await(10, TimeUnit.SECONDS), "the body was not cancelled");
        }
    }

    @Test
    void aBodyThatToldTheClientOfItsFailureEndsWholeAndTheListenersHearOfIt() throws Exception {
        try (RunningGateway gateway = gateway("end: failed", true)) {
            var completed = ProbeFilterProvider.completed("pushed", 1);
            HttpResponse<String> response = gateway.post(PATH, "application/json", BODY);

            assertEquals(pieces(3, 8), response.body());
            assertTrue(completed.await(10, TimeUnit.SECONDS));
            StreamFailedException failure = assertInstanceOf(StreamFailedException.class,
                    ProbeFilterProvider.completedWith("pushed"));
            assertEquals(PushingBackendProvider.TOLD, failure.errorCode());
        }
    }

    @Test
    void aBodyThatFailsWithoutAWordCutsTheConnection() throws Exception {
        try (RunningGateway gateway = gateway("end: aborted", false)) {
            HttpResponse<InputStream> response = open(gateway);
            assertEquals(200, response.statusCode());
            assertThrows(IOException.class, () -> {
                try (InputStream in = response.body()) {
                    in.readAllBytes();
                }
            });
        }
    }
}
