package dev.modelgate.spi;

import java.util.List;

/**
 * What every plugin provider has in common. Providers are found with {@link java.util.ServiceLoader}, in the gateway
 * jar and in each jar of the plugins folder, and must have a public no-argument constructor.
 *
 * <p>Lifecycle: the kernel discovers providers once, then for each use in the configuration calls {@code create} with
 * that use's config node. {@code create} validates the whole node (problems are reported on the node, naming the
 * key) and returns an immutable, thread-safe object, used until the gateway stops and then closed.
 */
public interface PluginProvider {

    /** The lower-case-dashed name that configuration uses in {@code type:}. */
    String type();

    /** The error codes this plugin answers with, beyond {@link CoreErrors}. Codes must be unique gateway-wide. */
    default List<ErrorCode> errorCodes() {
        return List.of();
    }
}
