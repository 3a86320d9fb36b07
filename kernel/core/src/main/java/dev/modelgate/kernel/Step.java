package dev.modelgate.kernel;

import dev.modelgate.spi.Middleware;
import java.util.Set;

/**
 * One middleware in a route's pipeline.
 *
 * @param type the plugin type, for error messages
 * @param configPath where it is configured, such as {@code routes[0].middlewares[1]}
 * @param repeatsProceed whether it may call proceed more than once (a retry)
 * @param declaredCodes every code the kernel and the plugins declare: the only ones a middleware may answer with
 */
record Step(String type, String configPath, Middleware middleware, boolean repeatsProceed,
        Set<Integer> declaredCodes) {

    String describe() {
        return "middleware '" + type + "' (" + configPath + ")";
    }

    /** Why answering with {@code code} breaks the contract, or {@code null} when it is declared (or success). */
    String undeclared(int code) {
        return code == 0 || declaredCodes.contains(code) ? null
                : describe() + " answered with code " + code + ", which no plugin declares in errorCodes()";
    }
}
