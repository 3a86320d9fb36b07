package dev.modelgate.spi.front;

import dev.modelgate.spi.ConfigNode;
import dev.modelgate.spi.PluginProvider;

/**
 * A front that opens a listener of its own (the gRPC front) and runs its calls through the kernel's pipeline, found
 * with {@link java.util.ServiceLoader} like the other providers. Unlike a middleware it needs no configuration entry:
 * the kernel builds every front it finds once, from the node {@code fronts.<type>} (empty when absent).
 */
public interface FrontProvider extends PluginProvider {

    /**
     * Builds the front from {@code config} without opening anything yet ({@code validate} builds it too).
     *
     * @return the front, or empty when its configuration turns it off (a port of 0); {@code null} only after
     *     reporting a problem on {@code config}
     */
    java.util.Optional<ListenerFront> create(ConfigNode config, FrontContext context) throws Exception;
}
