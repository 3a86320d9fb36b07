package dev.modelgate.kernel;

import dev.modelgate.spi.BackendFilter;
import java.util.Set;

/**
 * One filter of a backend's chain.
 *
 * @param type the plugin type, for error messages
 * @param configPath where it is configured, such as {@code backends.tf-main.filters[0]}
 * @param repeatsProceed whether it may call proceed more than once (a retry)
 * @param needsTensors whether it works on decoded requests, so its backend's calls never take the proxy path
 * @param declaredCodes every code the kernel and the plugins declare: the only ones a filter may fail with
 */
record FilterStep(String type, String configPath, BackendFilter filter, boolean repeatsProceed,
        boolean needsTensors, Set<Integer> declaredCodes) {

    String describe() {
        return "filter '" + type + "' (" + configPath + ")";
    }

    /** Why failing with {@code code} breaks the contract, or {@code null} when it is declared. */
    String undeclared(int code) {
        return declaredCodes.contains(code) ? null
                : describe() + " failed with code " + code + ", which no plugin declares in errorCodes()";
    }
}
