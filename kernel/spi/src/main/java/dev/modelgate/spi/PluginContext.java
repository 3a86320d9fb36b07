package dev.modelgate.spi;

import java.time.Clock;
import java.util.Optional;

/** What the kernel offers a plugin instance while it is built and while it runs. */
public interface PluginContext {

    /** Where this instance is configured, as a key path: {@code middlewares[1]}, {@code backends.tf-main}. */
    String name();

    Metrics metrics();

    /** The clock to read time from; tests inject a fixed or stepping one. */
    Clock clock();

    /** A logger named after the plugin type. */
    System.Logger logger();

    /**
     * A call to the configured backend {@code name} as the kernel makes it at the end of a route (request checked,
     * answer in the gateway's envelope, failures as codes), for a middleware that falls back to another backend.
     * Backends are built before middlewares, so this works inside {@code create}.
     *
     * @return empty when no backend has that name; report it on the plugin's config node
     */
    Optional<BackendCall> backend(String name);

    /**
     * The codec of {@code dialect} that reads and writes {@code mediaType}, for a backend adapter that speaks a
     * dialect (see {@link dev.modelgate.spi.inference.InferenceCodec}).
     *
     * @return empty when no loaded plugin provides one
     */
    Optional<dev.modelgate.spi.inference.InferenceCodec> codec(String dialect, String mediaType);

    /**
     * The load-balancing policy named {@code type}, built in or from a plugin jar, for a backend that balances over
     * instances.
     *
     * @return empty when no loaded plugin provides one; report it on the plugin's config node
     */
    Optional<dev.modelgate.spi.balancer.BalancerProvider> balancer(String type);

    /**
     * The gateway's own locality ({@code server.locality}: a region, zone or cluster), which backends prefer
     * instances of; empty when not configured.
     */
    Optional<String> locality();

    /**
     * HTTP/1.1 connection pools on the gateway's own IO threads, for a backend that forwards without blocking
     * ({@link ProxyBackend#forwardsAsync}). A pool opened while the configuration is built connects at its first
     * call, once the gateway serves.
     */
    dev.modelgate.spi.upstream.UpstreamHttp upstreamHttp();

    /** A predict call to one backend; never throws, never returns {@code null}. */
    @FunctionalInterface
    interface BackendCall {
        Response predict(Exchange exchange);
    }
}
