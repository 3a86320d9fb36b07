package dev.modelgate.spi.balancer;

import dev.modelgate.spi.ConfigNode;
import dev.modelgate.spi.PluginProvider;

/**
 * A load-balancing policy, named in a remote backend's {@code balancer} ({@code balancer: round-robin}), its settings
 * keys of the backend next to it ({@code hash-key} of {@code consistent-hash}). Found with
 * {@link java.util.ServiceLoader} like the other providers, in the gateway jar ({@code round-robin},
 * {@code weighted}, {@code least-outstanding}, {@code consistent-hash}) and in plugin jars. See
 * {@link PluginProvider} for the lifecycle: {@link #create} runs once per backend that names it.
 */
public interface BalancerProvider extends PluginProvider {

    /**
     * Builds one backend's balancer.
     *
     * @param config the backend's node: the balancer reads its own keys there, next to {@code balancer} (name them
     *     after the policy, as {@code hash-key}, so that they cannot clash with the backend's). Problems are reported
     *     on it by key; keys nobody read are reported as unknown, so a key of another policy is an error.
     * @return an immutable, thread-safe balancer; {@code null} only after reporting a problem on {@code config}
     */
    Balancer create(ConfigNode config, BalancerContext context);

    /** Whether its balancers read {@link Endpoint#weight()}: an instance's {@code weight} under another is an error. */
    default boolean readsWeights() {
        return false;
    }
}
