package dev.modelgate.spi.admin;

import dev.modelgate.spi.ConfigNode;
import dev.modelgate.spi.PluginContext;
import dev.modelgate.spi.PluginProvider;
import java.util.Map;

/**
 * Endpoints a plugin adds to the admin listener (profiling, for one), found with {@link java.util.ServiceLoader}
 * like the other providers. Like a front it needs no configuration entry: the kernel builds every provider it finds
 * once, from the node {@code admin.<type>} (empty when absent). The kernel keeps the admin listener's rules for
 * them: only {@code GET} and {@code HEAD}, and only with the admin token or through the admin pipeline
 * ({@code admin.token}, {@code admin.middlewares}); a plugin never sees a request that did not pass.
 */
public interface AdminEndpointProvider extends PluginProvider {

    /**
     * Builds the endpoints from {@code config}, opening nothing yet ({@code validate} builds them too).
     *
     * @return the endpoints by exact path ({@code /debug/pprof/heap}); a path the kernel or another plugin serves is
     *     a configuration problem. {@code null} only after reporting a problem on {@code config}
     */
    Map<String, AdminEndpoint> create(ConfigNode config, PluginContext context) throws Exception;
}
