package dev.modelgate.spi;

/** Builds a {@link Backend} from its config node. See {@link PluginProvider} for the lifecycle. */
public interface BackendProvider extends PluginProvider {

    /**
     * Builds the backend. Report each invalid value with {@link ConfigNode#problem}; the kernel discards the result
     * (closing it) when problems were reported.
     *
     * @throws Exception when the backend cannot be built for a reason outside its configuration (a model file that
     *     does not load); the kernel reports it against this config node
     */
    Backend create(ConfigNode config, PluginContext context) throws Exception;
}
