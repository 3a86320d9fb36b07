package dev.modelgate.plugins.pool;

import dev.modelgate.spi.ConfigNode;
import dev.modelgate.spi.balancer.Balancer;
import dev.modelgate.spi.balancer.BalancerContext;
import dev.modelgate.spi.balancer.BalancerProvider;

/** Balancer {@code weighted}: smooth weighted round robin over the instances' {@code weight}s (canaries). */
public final class WeightedProvider implements BalancerProvider {

    @Override
    public String type() {
        return "weighted";
    }

    @Override
    public boolean readsWeights() {
        return true;
    }

    @Override
    public Balancer create(ConfigNode config, BalancerContext context) {
        return new BuiltInBalancers.SmoothWeighted(context.endpoints().size());
    }
}
