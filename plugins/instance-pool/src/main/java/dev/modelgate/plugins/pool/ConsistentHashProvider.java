package dev.modelgate.plugins.pool;

import dev.modelgate.spi.ConfigNode;
import dev.modelgate.spi.balancer.Balancer;
import dev.modelgate.spi.balancer.BalancerContext;
import dev.modelgate.spi.balancer.BalancerProvider;

/**
 * Balancer {@code consistent-hash}: the instance owning the request's {@code hash-key} (a key of the backend) on a
 * hash ring.
 */
public final class ConsistentHashProvider implements BalancerProvider {

    @Override
    public String type() {
        return "consistent-hash";
    }

    @Override
    public Balancer create(ConfigNode config, BalancerContext context) {
        String text = config.string("hash-key");
        HashKey key = text.isEmpty() ? null : HashKey.parse(text);
        if (!text.isEmpty() && key == null) {
            config.problem("hash-key", "must be " + HashKey.FORMAT + ", but was '" + text + "'");
        }
        // Without a key (a request lacking the header, say) there is nothing to be sticky to: spread them.
        return new BuiltInBalancers.ConsistentHash(new HashRing(context.endpoints()), key,
                new BuiltInBalancers.RoundRobin());
    }
}
