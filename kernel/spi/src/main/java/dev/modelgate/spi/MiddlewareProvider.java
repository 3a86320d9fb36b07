package dev.modelgate.spi;

/** Builds a {@link Middleware} from its config node. See {@link PluginProvider} for the lifecycle. */
public interface MiddlewareProvider extends PluginProvider {

    /**
     * Builds the middleware. Report each invalid value with {@link ConfigNode#problem} and return anything (the kernel
     * discards it when problems were reported). A returned middleware that is {@link AutoCloseable} is closed when
     * the gateway stops.
     */
    Middleware create(ConfigNode config, PluginContext context);
}
