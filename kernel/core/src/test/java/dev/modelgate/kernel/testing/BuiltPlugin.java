package dev.modelgate.kernel.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.modelgate.kernel.ConfigSource;
import dev.modelgate.kernel.MetricsRegistry;
import dev.modelgate.kernel.upstream.IoUpstreamHttp;
import dev.modelgate.spi.BackendFilter;
import dev.modelgate.spi.BackendFilterProvider;
import dev.modelgate.spi.ConfigNode;
import dev.modelgate.spi.Metrics;
import dev.modelgate.spi.Middleware;
import dev.modelgate.spi.MiddlewareProvider;
import dev.modelgate.spi.PluginContext;
import dev.modelgate.spi.balancer.BalancerProvider;
import dev.modelgate.spi.inference.InferenceCodec;
import dev.modelgate.spi.upstream.UpstreamHttp;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * One middleware or backend filter built by its provider from a YAML entry, without a gateway: for tests of what a
 * provider builds for a configuration (its {@linkplain dev.modelgate.spi.PhasedMiddleware phased} form, say). The
 * entry must be valid. Closing this closes the instance when it is {@link AutoCloseable}, as the kernel would.
 *
 * @param instance what the provider built
 * @param <T> {@link Middleware} or {@link BackendFilter}
 */
public record BuiltPlugin<T>(T instance) implements AutoCloseable {

    /** The backend a filter built here belongs to. */
    public static final String BACKEND = "model";

    /** The middleware {@code provider} builds from {@code yaml}, a {@code middlewares} entry without its type. */
    public static BuiltPlugin<Middleware> middleware(MiddlewareProvider provider, String yaml) {
        List<String> problems = new ArrayList<>();
        Middleware middleware = provider.create(config(yaml, problems), new Context("middlewares[0]"));
        assertEquals(List.of(), problems, "the entry must be valid");
        return new BuiltPlugin<>(middleware);
    }

    /** The filter {@code provider} builds from {@code yaml}, a {@code filters} entry of backend {@link #BACKEND}. */
    public static BuiltPlugin<BackendFilter> filter(BackendFilterProvider provider, String yaml) {
        List<String> problems = new ArrayList<>();
        BackendFilter filter = provider.create(config(yaml, problems),
                new Context("backends." + BACKEND + ".filters[0]"));
        assertEquals(List.of(), problems, "the entry must be valid");
        return new BuiltPlugin<>(filter);
    }

    private static ConfigNode config(String yaml, List<String> problems) {
        ConfigSource source = ConfigSource.parse("test.yaml", yaml, Map.of());
        assertEquals(List.of(), source.problems());
        return ConfigNode.root(source.tree(), problems);
    }

    @Override
    public void close() throws Exception {
        if (instance instanceof AutoCloseable closeable) {
            closeable.close();
        }
    }

    /**
     * What a plugin instance gets from the kernel. Every backend it names is there, for building only: calling one
     * fails, as does an upstream pool's call. It finds no codec nor balancer.
     */
    private record Context(String name, Metrics metrics) implements PluginContext {

        Context(String name) {
            this(name, new MetricsRegistry());
        }

        @Override
        public Clock clock() {
            return Clock.systemUTC();
        }

        @Override
        public System.Logger logger() {
            return System.getLogger("dev.modelgate.plugin.test");
        }

        @Override
        public Optional<BackendCall> backend(String backendName) {
            return Optional.of(exchange -> {
                throw new UnsupportedOperationException("a BuiltPlugin serves no request, so no call to "
                        + backendName);
            });
        }

        @Override
        public Optional<InferenceCodec> codec(String dialect, String mediaType) {
            return Optional.empty();
        }

        @Override
        public Optional<BalancerProvider> balancer(String type) {
            return Optional.empty();
        }

        @Override
        public Optional<String> locality() {
            return Optional.empty();
        }

        /** Pools that open, as a backend's building needs, but never call: no gateway attaches IO threads. */
        @Override
        public UpstreamHttp upstreamHttp() {
            return new IoUpstreamHttp();
        }
    }
}
