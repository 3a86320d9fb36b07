package dev.modelgate.plugins.grpcfront;

import dev.modelgate.spi.CoreErrors;
import dev.modelgate.spi.front.FrontContext;
import dev.modelgate.spi.front.ListenerFront;
import dev.modelgate.spi.front.Pipeline;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * The gRPC listener on {@code server.grpc-port}: the KServe v2 and ModelService services, health and reflection,
 * every call on a virtual thread, TLS from {@code server.tls}, messages up to {@code server.max-body-size}.
 */
final class GrpcFront implements ListenerFront {

    private final FrontContext context;
    private final String defaultModel;
    private final OpenCalls openCalls = new OpenCalls();
    private ExecutorService executor;
    private HealthService health;
    private Server server;

    GrpcFront(FrontContext context, String defaultModel) {
        this.context = context;
        this.defaultModel = defaultModel;
    }

    @Override
    public void start(Pipeline pipeline) throws IOException {
        executor = Executors.newThreadPerTaskExecutor(Thread.ofVirtual().name("modelgate-grpc-", 0).factory());
        Calls calls = new Calls(pipeline, context);
        Handlers handlers = new Handlers(openCalls);
        health = new HealthService(pipeline);
        int port = context.port() == FrontContext.ANY_FREE_PORT ? 0 : context.port();
        NettyServerBuilder builder = NettyServerBuilder.forAddress(new InetSocketAddress(context.address(), port))
                .executor(executor)
                // Larger messages are refused by gRPC before they are buffered: RESOURCE_EXHAUSTED.
                .maxInboundMessageSize((int) Math.min(Integer.MAX_VALUE, context.maxBodyBytes()))
                .addService(new KServeService(calls, context.serverVersion()).definition(handlers))
                .addService(new ModelServiceService(calls, defaultModel).definition(handlers))
                .addService(health)
                .addService(ProtoReflectionServiceV1.newInstance())
                .fallbackHandlerRegistry(new UnknownMethods(calls, handlers));
        if (context.tlsCertFile() != null) {
            builder.sslContext(GrpcSslContexts.forServer(context.tlsCertFile().toFile(), context.tlsKeyFile().toFile())
                    .protocols("TLSv1.3", "TLSv1.2")
                    .build());
        }
        try {
            server = builder.build().start();
        } catch (IOException | RuntimeException e) {
            executor.shutdownNow();
            throw new IOException("cannot listen for gRPC on " + context.address() + ":" + port + ": "
                    + e.getMessage(), e);
        }
    }

    @Override
    public int port() {
        return server == null ? 0 : server.getPort();
    }

    /** GOAWAY to every connection and the port closed; calls and streams open go on, health says NOT_SERVING. */
    @Override
    public void stopAccepting() {
        if (server != null) {
            health.drain();
            server.shutdown();
        }
    }

    @Override
    public boolean awaitIdle(Duration timeout) throws InterruptedException {
        return server == null || server.awaitTermination(timeout.toNanos(), TimeUnit.NANOSECONDS);
    }

    /** Calls still open end UNAVAILABLE with code 30001, so that clients retry elsewhere. */
    @Override
    public void close() {
        if (server == null) {
            return;
        }
        openCalls.closeAll(() -> Outcome.status(CoreErrors.SHUTTING_DOWN, CoreErrors.SHUTTING_DOWN.summary()
                + ": the shutdown timeout passed", new Metadata()));
        server.shutdownNow();
        try {
            server.awaitTermination(1, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        executor.shutdownNow();
    }
}
