package dev.modelgate.plugins.grpcfront;

import dev.modelgate.spi.CoreErrors;
import dev.modelgate.spi.front.FrontContext;
import dev.modelgate.spi.front.ListenerFront;
import dev.modelgate.spi.front.Pipeline;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContextBuilder;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.X509ExtendedKeyManager;

/**
 * The gRPC listener on {@code server.grpc-port}: the KServe v2 and ModelService services, health and reflection,
 * every call on a virtual thread, TLS from {@code server.tls} (its certificate rotated by a reload), and the API
 * listener's limits: messages up to {@code max-body-size}, metadata up to {@code max-header-size},
 * {@code http2-max-concurrent-streams} calls per connection, idle connections closed after {@code idle-timeout}.
 */
final class GrpcFront implements ListenerFront {

    private final FrontContext context;
    private final String defaultModel;
    private final OpenCalls openCalls = new OpenCalls();
    private ExecutorService executor;
    private HealthService health;
    private Server server;
    /** The certificate and key handshakes present, {@code null} in clear. */
    private RotatingKeyManager tlsKeys;

    GrpcFront(FrontContext context, String defaultModel) {
        this.context = context;
        this.defaultModel = defaultModel;
    }

    @Override
    public void start(Pipeline pipeline) throws IOException {
        executor = Executors.newThreadPerTaskExecutor(Thread.ofVirtual().name("modelgate-grpc-", 0).factory());
        Calls calls = new Calls(pipeline, context);
        Handlers handlers = new Handlers(openCalls, calls);
        health = new HealthService(pipeline);
        int port = context.port() == FrontContext.ANY_FREE_PORT ? 0 : context.port();
        NettyServerBuilder builder = NettyServerBuilder.forAddress(new InetSocketAddress(context.address(), port))
                .executor(executor)
                // gRPC's own caps, twice ours, as the API listener's: between the two a call is refused with its
                // code (20003, 20011) after the global middlewares; past them gRPC refuses it without a code,
                // having buffered no more than the cap.
                .maxInboundMessageSize((int) Math.min(Integer.MAX_VALUE, 2 * context.maxBodyBytes()))
                .maxInboundMetadataSize(2 * context.maxHeaderBytes())
                .maxConcurrentCallsPerConnection(context.maxConcurrentStreams())
                .maxConnectionIdle(context.idleTimeout().toNanos(), TimeUnit.NANOSECONDS)
                .addService(new KServeService(calls, context.serverVersion()).definition(handlers))
                .addService(new ModelServiceService(calls, defaultModel).definition(handlers))
                .addService(health)
                .addService(ProtoReflectionServiceV1.newInstance())
                .fallbackHandlerRegistry(new UnknownMethods(calls, handlers));
        if (context.tlsKeyManager() != null) {
            tlsKeys = new RotatingKeyManager(context.tlsKeyManager());
            builder.sslContext(GrpcSslContexts.configure(SslContextBuilder.forServer(tlsKeys))
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

    /** Handshakes from now on present the rotated certificate; open connections keep theirs. */
    @Override
    public boolean rotateTls(X509ExtendedKeyManager keys) {
        if (tlsKeys == null) {
            return false;
        }
        tlsKeys.use(keys);
        return true;
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
