package dev.modelgate.kernel.testing;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;

/** A server on a bare socket that hands every connection it accepts, numbered from 0, to a script. */
public final class ScriptedServer implements AutoCloseable {

    @FunctionalInterface
    public interface Script {
        void serve(Socket socket, int index) throws Exception;
    }

    private final ServerSocket server;
    private final AtomicInteger accepted = new AtomicInteger();
    private final ConcurrentLinkedQueue<Socket> sockets = new ConcurrentLinkedQueue<>();

    public ScriptedServer(Script script) throws IOException {
        server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread.ofVirtual().start(() -> {
            while (!server.isClosed()) {
                try {
                    Socket socket = server.accept();
                    sockets.add(socket);
                    int index = accepted.getAndIncrement();
                    Thread.ofVirtual().start(() -> {
                        try (socket) {
                            script.serve(socket, index);
                        } catch (Exception e) {
                            // the client hung up, or the test is over
                        }
                    });
                } catch (IOException e) {
                    return;
                }
            }
        });
    }

    public int port() {
        return server.getLocalPort();
    }

    public int accepted() {
        return accepted.get();
    }

    @Override
    public void close() throws IOException {
        server.close();
        for (Socket socket : sockets) {
            socket.close();
        }
    }
}
