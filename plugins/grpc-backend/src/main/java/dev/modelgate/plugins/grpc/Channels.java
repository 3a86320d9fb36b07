package dev.modelgate.plugins.grpc;

import dev.modelgate.plugins.pool.Instance;
import dev.modelgate.spi.ConfigNode;
import io.grpc.ChannelCredentials;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.TlsChannelCredentials;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * One long-lived channel per instance, by instance index: one HTTP/2 connection that every call to the instance
 * shares as a stream, reconnected by gRPC when it breaks, pinged while calls are in flight so a dead peer is noticed.
 *
 * <p>Thread-safe: channels are.
 */
final class Channels implements AutoCloseable {

    private static final String GRPCS = "grpcs";
    private static final long SHUTDOWN_GRACE_SECONDS = 5;

    private final List<ManagedChannel> byIndex;

    private Channels(List<ManagedChannel> byIndex) {
        this.byIndex = byIndex;
    }

    /**
     * Opens the channels of {@code settings}' instances; gRPC connects on the first call. Unreadable TLS files are
     * reported on {@code config}'s {@code tls} section.
     *
     * @return {@code null} when the TLS files could not be read
     */
    static Channels open(GrpcBackendSettings settings, ConfigNode config) {
        ChannelCredentials tls = null;
        if (settings.pool().instances().stream().anyMatch(Channels::secure)) {
            try {
                tls = tlsCredentials(settings.tls());
            } catch (IOException | RuntimeException e) {
                config.problem("tls", "cannot read the PEM files: " + e.getMessage());
                return null;
            }
        }
        List<ManagedChannel> channels = new ArrayList<>();
        for (Instance instance : settings.pool().instances()) {
            boolean secure = secure(instance);
            int port = instance.url().getPort() != -1 ? instance.url().getPort() : secure ? 443 : 80;
            String host = instance.url().getHost();
            // An IPv6 literal comes bracketed from the URL; gRPC brackets it itself.
            if (host.startsWith("[") && host.endsWith("]")) {
                host = host.substring(1, host.length() - 1);
            }
            channels.add(NettyChannelBuilder
                    .forAddress(host, port,
                            secure ? tls : InsecureChannelCredentials.create())
                    .keepAliveTime(settings.keepAliveTime().toNanos(), TimeUnit.NANOSECONDS)
                    .keepAliveTimeout(settings.keepAliveTimeout().toNanos(), TimeUnit.NANOSECONDS)
                    .maxInboundMessageSize(settings.maxMessageBytes())
                    // Retrying is the retry middleware's, which knows the request's budget and other instances.
                    .disableRetry()
                    .userAgent("modelgate")
                    .build());
        }
        return new Channels(List.copyOf(channels));
    }

    private static boolean secure(Instance instance) {
        return GRPCS.equalsIgnoreCase(instance.url().getScheme());
    }

    private static ChannelCredentials tlsCredentials(GrpcBackendSettings.Tls tls) throws IOException {
        TlsChannelCredentials.Builder builder = TlsChannelCredentials.newBuilder();
        if (tls != null && tls.caFile() != null) {
            builder.trustManager(tls.caFile().toFile());
        }
        if (tls != null && tls.certFile() != null) {
            builder.keyManager(tls.certFile().toFile(), tls.keyFile().toFile());
        }
        return builder.build();
    }

    ManagedChannel of(Instance instance) {
        return byIndex.get(instance.index());
    }

    /** Lets calls in flight finish for a few seconds, then cuts what is left. */
    @Override
    public void close() {
        byIndex.forEach(ManagedChannel::shutdown);
        try {
            for (ManagedChannel channel : byIndex) {
                if (!channel.awaitTermination(SHUTDOWN_GRACE_SECONDS, TimeUnit.SECONDS)) {
                    channel.shutdownNow();
                }
            }
        } catch (InterruptedException e) {
            byIndex.forEach(ManagedChannel::shutdownNow);
            Thread.currentThread().interrupt();
        }
    }
}
