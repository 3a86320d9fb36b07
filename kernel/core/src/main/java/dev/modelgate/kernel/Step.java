package dev.modelgate.kernel;

import dev.modelgate.spi.Middleware;

/**
 * One middleware in a route's pipeline.
 *
 * @param type the plugin type, for error messages
 * @param configPath where it is configured, such as {@code routes[0].middlewares[1]}
 * @param repeatsProceed whether it may call proceed more than once (a retry)
 */
record Step(String type, String configPath, Middleware middleware, boolean repeatsProceed) {

    String describe() {
        return "middleware '" + type + "' (" + configPath + ")";
    }
}
