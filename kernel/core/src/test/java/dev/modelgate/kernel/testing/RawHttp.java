package dev.modelgate.kernel.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * Requests written byte for byte on a socket, for what a well-behaved client library refuses to send: duplicate or
 * conflicting headers, odd paths, a request that never ends.
 */
public final class RawHttp {

    private RawHttp() {
    }

    /** What came back: the raw response text, and whether the server closed the connection before the timeout. */
    public record Reply(String text, boolean closedByServer) {

        /** The status code of the first response, or -1 when none came. */
        public int status() {
            return text.startsWith("HTTP/1.1 ") && text.length() >= 12 ? Integer.parseInt(text.substring(9, 12)) : -1;
        }
    }

    /**
     * Writes {@code request} (CRLFs included) to 127.0.0.1:{@code port} and reads until close or {@code timeout}.
     * Writing goes on beside reading, as a real client's does, so that an answer given before the whole request was
     * sent (a refused head, a body over the limit) is read even when the server stops reading.
     */
    public static Reply send(int port, String request, Duration timeout) {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress("127.0.0.1", port), (int) timeout.toMillis());
            socket.setSoTimeout((int) timeout.toMillis());
            Thread.ofVirtual().start(() -> {
                try {
                    socket.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
                    socket.getOutputStream().flush();
                } catch (IOException e) {
                    // the server closed its side: what it answered is read below
                }
            });
            ByteArrayOutputStream received = new ByteArrayOutputStream();
            InputStream in = socket.getInputStream();
            byte[] buffer = new byte[8192];
            try {
                for (int read; (read = in.read(buffer)) >= 0; ) {
                    received.write(buffer, 0, read);
                }
                return new Reply(received.toString(StandardCharsets.ISO_8859_1), true);
            } catch (SocketTimeoutException e) {
                return new Reply(received.toString(StandardCharsets.ISO_8859_1), false);
            } catch (IOException e) {
                // reset by the server: it closed the connection
                return new Reply(received.toString(StandardCharsets.ISO_8859_1), true);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Reads one request, its head and a body of its {@code Content-Length}, as a raw model server would; {@code false}
     * when the stream ended first (a kept-alive connection the client closed).
     */
    public static boolean readRequest(InputStream in) throws IOException {
        StringBuilder head = new StringBuilder();
        while (!head.toString().endsWith("\r\n\r\n")) {
            int next = in.read();
            if (next < 0) {
                return false;
            }
            head.append((char) next);
        }
        String lengthLine = head.toString().lines()
                .filter(line -> line.toLowerCase(java.util.Locale.ROOT).startsWith("content-length:")).findFirst()
                .orElse("x: 0");
        in.readNBytes(Integer.parseInt(lengthLine.substring(lengthLine.indexOf(':') + 1).strip()));
        return true;
    }
}
