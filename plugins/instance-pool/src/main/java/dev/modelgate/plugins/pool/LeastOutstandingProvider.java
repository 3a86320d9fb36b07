package dev.modelgate.plugins.pool;

import dev.modelgate.spi.ConfigNode;
import dev.modelgate.spi.balancer.Balancer;
import dev.modelgate.spi.balancer.BalancerContext;
import dev.modelgate.spi.balancer.BalancerProvider;

/** Balancer {@code least-outstanding}: the less busy of two candidates drawn at random. */
public final class LeastOutstandingProvider implements BalancerProvider {

    @Override
    public String type() {
        return "least-outstanding";
    }

    @Override
    public Balancer create(ConfigNode config, BalancerContext context) {
        return new BuiltInBalancers.LeastOutstanding(context::inFlight, context.random());
    }
}
