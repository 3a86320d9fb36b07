package dev.modelgate.spi;

/**
 * Builds a {@link BackendFilter} from its config node, once per entry of a backend's {@code filters} list. See
 * {@link PluginProvider} for the lifecycle; {@link PluginContext#name()} is the entry's key path
 * ({@code backends.tf-main.filters[0]}). A returned filter that is {@link AutoCloseable} is closed at shutdown.
 */
public interface BackendFilterProvider extends PluginProvider {

    BackendFilter create(ConfigNode config, PluginContext context);

    /** Whether its filters may call {@link BackendChain#proceed} more than once, one call after another (a retry). */
    default boolean repeatsProceed() {
        return false;
    }

    /**
     * Whether its filters work on decoded requests (a batcher merging tensors): a backend with such a filter is
     * always called on the inference path, even by clients of its own dialect, whose bytes would otherwise pass
     * through unparsed.
     */
    default boolean needsTensors() {
        return false;
    }
}
