package dev.modelgate.spi;

/** Builds a {@link Middleware} from its config node. See {@link PluginProvider} for the lifecycle. */
public interface MiddlewareProvider extends PluginProvider {

    /**
     * Builds the middleware. Report each invalid value with {@link ConfigNode#problem} and return anything (the kernel
     * discards it when problems were reported). A returned middleware that is {@link AutoCloseable} is closed when
     * the gateway stops.
     */
    Middleware create(ConfigNode config, PluginContext context);

    /**
     * Whether this provider's middlewares may call {@link Chain#proceed()} more than once, one call after another,
     * each running the rest of the pipeline anew: a retry does. Every other middleware is held to one call.
     */
    default boolean repeatsProceed() {
        return false;
    }
}
