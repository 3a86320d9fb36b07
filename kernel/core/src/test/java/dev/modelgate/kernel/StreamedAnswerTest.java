package dev.modelgate.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.modelgate.kernel.fixtures.ProbeFilterProvider;
import dev.modelgate.kernel.fixtures.StreamingBackendProvider;
import dev.modelgate.kernel.testing.RunningGateway;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Answers of unknown length: written by the request's thread as the body produces them, ended by the IO thread, so
 * that a keep-alive connection is ready for its next request before that thread lets go of it.
 */
class StreamedAnswerTest {

    private static final String BODY = "{\"instances\":[[1]]}";
    private static final String WHOLE = StreamingBackendProvider.FIRST_CHUNK + StreamingBackendProvider.LAST_CHUNK;

    private static RunningGateway streamingGateway() throws Exception {
        return RunningGateway.start("""
                backends:
                  stream:
                    type: streaming
                    filters:
                      - type: probe
                        name: streamed
                routes:
                  - model: s
                    backend: stream
                """);
    }

    @Test
    void aStreamedAnswerIsEndedOnTheIoThread() throws Exception {
        try (RunningGateway gateway = streamingGateway()) {
            var completed = ProbeFilterProvider.completed("streamed", 1);
            HttpResponse<String> response = gateway.post("/tfserving/v1/models/s:predict", "application/json", BODY);

            assertEquals(200, response.statusCode());
            assertEquals(WHOLE, response.body());
            assertTrue(completed.await(10, TimeUnit.SECONDS));
            Thread endedOn = ProbeFilterProvider.completedOn("streamed");
            assertNotNull(endedOn);
            assertFalse(endedOn.isVirtual(), "ended on " + endedOn);
            assertTrue(endedOn.getName().startsWith("modelgate I/O"), "ended on " + endedOn);
        }
    }

    @Test
    void aKeepAliveClientGetsStreamAfterStreamOnOneConnection() throws Exception {
        try (RunningGateway gateway = streamingGateway();
                Socket socket = new Socket("127.0.0.1", gateway.port())) {
            socket.setSoTimeout(10_000);
            InputStream in = new BufferedInputStream(socket.getInputStream());
            byte[] request = ("POST /tfserving/v1/models/s:predict HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json"
                    + "\r\nContent-Length: " + BODY.length() + "\r\n\r\n" + BODY).getBytes(StandardCharsets.US_ASCII);
            for (int i = 0; i < 20; i++) {
                // The next request leaves as soon as the last chunk is in, as a closed-loop client sends it.
                socket.getOutputStream().write(request);
                socket.getOutputStream().flush();
                assertEquals(WHOLE, chunkedBody(in), "answer " + (i + 1));
            }
        }
    }

    /** Reads one 200 answer with a chunked body from {@code in} and returns the body. */
    private static String chunkedBody(InputStream in) throws IOException {
        assertEquals("HTTP/1.1 200 OK", line(in));
        boolean chunked = false;
        for (String header = line(in); !header.isEmpty(); header = line(in)) {
            chunked |= header.toLowerCase(Locale.ROOT).equals("transfer-encoding: chunked");
        }
        assertTrue(chunked, "a chunked answer");
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        for (int size = Integer.parseInt(line(in), 16); size > 0; size = Integer.parseInt(line(in), 16)) {
            body.write(in.readNBytes(size));
            assertEquals("", line(in));
        }
        assertEquals("", line(in));
        return body.toString(StandardCharsets.UTF_8);
    }

    private static String line(InputStream in) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        for (int next = in.read(); next != '\n'; next = in.read()) {
            if (next < 0) {
                throw new IOException("the gateway closed the connection");
            }
            if (next != '\r') {
                bytes.write(next);
            }
        }
        return bytes.toString(StandardCharsets.US_ASCII);
    }
}
