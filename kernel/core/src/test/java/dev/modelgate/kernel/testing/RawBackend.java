package dev.modelgate.kernel.testing;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * A model server on a bare socket, for what a well-behaved server never does (dying halfway, dripping, sending
 * without end): it reads one request, writes {@code head} byte for byte, then hands the connection to {@code feed}
 * until the gateway hangs up. Closing it stops the feeding.
 */
public final class RawBackend implements AutoCloseable {

    /** What is written after the head; an {@link IOException} means the gateway hung up. */
    @FunctionalInterface
    public interface Feed {
        void write(OutputStream out) throws IOException, InterruptedException;
    }

    private final ServerSocket server;
    private final Thread worker;

    public RawBackend(String head, Feed feed) throws IOException {
        server = new ServerSocket(0, 8, InetAddress.getLoopbackAddress());
        worker = Thread.ofVirtual().start(() -> {
            try (Socket socket = server.accept()) {
                RawHttp.readRequest(socket.getInputStream());
                OutputStream out = socket.getOutputStream();
                out.write(head.getBytes(StandardCharsets.ISO_8859_1));
                out.flush();
                feed.write(out);
            } catch (IOException | InterruptedException e) {
                // the gateway hung up, or the test is over
            }
        });
    }

    public int port() {
        return server.getLocalPort();
    }

    /** Its URL, with {@code path}. */
    public String url(String path) {
        return "http://127.0.0.1:" + port() + path;
    }

    @Override
    public void close() throws IOException {
        server.close();
        worker.interrupt();
    }
}
