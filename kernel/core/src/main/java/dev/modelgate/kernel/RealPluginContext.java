package dev.modelgate.kernel;

import dev.modelgate.spi.Metrics;
import dev.modelgate.spi.PluginContext;
import dev.modelgate.spi.balancer.BalancerProvider;
import dev.modelgate.spi.inference.InferenceCodec;
import dev.modelgate.spi.upstream.UpstreamHttp;
import java.time.Clock;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/** The kernel's {@link PluginContext}: one per configured plugin instance. */
record RealPluginContext(String name, Metrics metrics, Clock clock, System.Logger logger,
        Function<String, Optional<BackendCall>> backends, Codecs codecs,
        Map<String, PluginRegistry.Discovered<BalancerProvider>> balancers, Optional<String> locality,
        UpstreamHttp upstreamHttp)
        implements PluginContext {

    @Override
    public Optional<BalancerProvider> balancer(String type) {
        return Optional.ofNullable(balancers.get(type)).map(PluginRegistry.Discovered::provider);
    }

    @Override
    public Optional<InferenceCodec> codec(String dialect, String mediaType) {
        return codecs.writer(dialect, mediaType);
    }

    @Override
    public Optional<BackendCall> backend(String backendName) {
        return backends.apply(backendName);
    }
}
