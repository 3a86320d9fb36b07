package dev.modelgate.plugins.pool;

import dev.modelgate.spi.ConfigNode;
import dev.modelgate.spi.balancer.Balancer;
import dev.modelgate.spi.balancer.BalancerContext;
import dev.modelgate.spi.balancer.BalancerProvider;

/** Balancer {@code round-robin}, the default: each candidate in turn. */
public final class RoundRobinProvider implements BalancerProvider {

    /** What {@code balancer} is when not configured. */
    public static final String TYPE = "round-robin";

    @Override
    public String type() {
        return TYPE;
    }

    @Override
    public Balancer create(ConfigNode config, BalancerContext context) {
        return new BuiltInBalancers.RoundRobin();
    }
}
