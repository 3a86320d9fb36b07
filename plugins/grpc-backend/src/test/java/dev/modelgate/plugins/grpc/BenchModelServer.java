package dev.modelgate.plugins.grpc;

import java.util.concurrent.CountDownLatch;

/**
 * The gRPC model server of {@code scripts/bench}'s gRPC rows: the tests' {@link ModelServer} (ModelService model
 * {@code half}, KServe v2 {@code double}) on a free port, which it prints as {@code port=N}, until stopped.
 */
public final class BenchModelServer {

    private BenchModelServer() {
    }

    public static void main(String[] args) throws Exception {
        try (ModelServer server = ModelServer.start()) {
            System.out.println("port=" + server.url().substring(server.url().lastIndexOf(':') + 1));
            System.out.flush();
            new CountDownLatch(1).await();
        }
    }
}
