package dev.modelgate.kernel;

import dev.modelgate.spi.BackendFilter;

/**
 * One filter of a backend's chain.
 *
 * @param type the plugin type, for error messages
 * @param configPath where it is configured, such as {@code backends.tf-main.filters[0]}
 * @param repeatsProceed whether it may call proceed more than once (a retry)
 * @param needsTensors whether it works on decoded requests, so its backend's calls never take the proxy path
 */
record FilterStep(String type, String configPath, BackendFilter filter, boolean repeatsProceed,
        boolean needsTensors) {

    String describe() {
        return "filter '" + type + "' (" + configPath + ")";
    }
}
