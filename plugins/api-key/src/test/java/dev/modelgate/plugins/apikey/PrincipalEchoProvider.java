package dev.modelgate.plugins.apikey;

import dev.modelgate.spi.ConfigNode;
import dev.modelgate.spi.Middleware;
import dev.modelgate.spi.MiddlewareProvider;
import dev.modelgate.spi.PluginContext;
import dev.modelgate.spi.Principal;
import dev.modelgate.spi.Response;
import java.util.TreeSet;

/**
 * Test middleware {@code principal-echo}: returns the principal the pipeline set before it as {@code X-Principal-*}
 * response headers (roles sorted, comma-separated), so tests see what authentication produced. Never shipped.
 */
public final class PrincipalEchoProvider implements MiddlewareProvider {

    @Override
    public String type() {
        return "principal-echo";
    }

    @Override
    public Middleware create(ConfigNode config, PluginContext context) {
        return (exchange, chain) -> {
            Principal principal = exchange.attribute(Principal.ATTRIBUTE);
            Response response = chain.proceed();
            if (principal == null) {
                return response;
            }
            return response.withHeader("X-Principal-Subject", principal.subject())
                    .withHeader("X-Principal-Roles", String.join(",", new TreeSet<>(principal.roles())))
                    .withHeader("X-Principal-Scheme", principal.scheme());
        };
    }
}
