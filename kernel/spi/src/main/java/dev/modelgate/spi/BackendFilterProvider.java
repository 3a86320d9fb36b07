package dev.modelgate.spi;

/**
 * Builds a {@link BackendFilter} from its config node, once per entry of a backend's {@code filters} list. See
 * {@link PluginProvider} for the lifecycle; {@link PluginContext#name()} is the entry's key path
 * ({@code backends.tf-main.filters[0]}). A returned filter that is {@link AutoCloseable} is closed at shutdown.
 */
public interface BackendFilterProvider extends PluginProvider {

    /** Where the kernel builds a backend filter: {@code backends.NAME.filters[i]}. Backend names may hold dots. */
    java.util.regex.Pattern FILTER_PATH = java.util.regex.Pattern.compile("backends\\.(.+)\\.filters\\[\\d+]");

    BackendFilter create(ConfigNode config, PluginContext context);

    /**
     * The name of the backend whose filter {@code context} builds, for metric labels and messages.
     *
     * @throws IllegalStateException when the entry is not in a backend's {@code filters} list
     */
    static String backendName(PluginContext context) {
        java.util.regex.Matcher path = FILTER_PATH.matcher(context.name());
        if (!path.matches()) {
            throw new IllegalStateException("a backend filter belongs to one backend: list it in "
                    + "backends.NAME.filters, not at " + context.name());
        }
        return path.group(1);
    }

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
