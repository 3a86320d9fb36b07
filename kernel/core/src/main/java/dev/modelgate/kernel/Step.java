package dev.modelgate.kernel;

import dev.modelgate.spi.Middleware;

/**
 * One middleware in a route's pipeline.
 *
 * @param type the plugin type, for error messages
 * @param configPath where it is configured, such as {@code routes[0].middlewares[1]}
 */
record Step(String type, String configPath, Middleware middleware) {

    String describe() {
        return "middleware '" + type + "' (" + configPath + ")";
    }
}
