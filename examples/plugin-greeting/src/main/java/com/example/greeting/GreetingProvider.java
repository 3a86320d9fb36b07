package com.example.greeting;

import dev.modelgate.spi.ConfigNode;
import dev.modelgate.spi.ErrorCode;
import dev.modelgate.spi.Middleware;
import dev.modelgate.spi.MiddlewareProvider;
import dev.modelgate.spi.PluginContext;
import java.util.List;

/**
 * Middleware {@code greeting}: answers every request with an {@code X-Greeting} header that greets the caller named
 * in {@code X-Name}, and refuses a name longer than {@code max-name-length} with its own error code.
 */
public final class GreetingProvider implements MiddlewareProvider {

    /** This plugin's code: domain 2 (request validation), in the 29xxx block the built-in plugins leave free. */
    public static final ErrorCode NAME_TOO_LONG = new ErrorCode(29001, 400, "INVALID_ARGUMENT", "name too long");

    @Override
    public String type() {
        return "greeting"; // configured as `type: greeting`
    }

    @Override
    public List<ErrorCode> errorCodes() {
        return List.of(NAME_TOO_LONG); // every code the plugin answers with; unique gateway-wide
    }

    @Override
    public Middleware create(ConfigNode config, PluginContext context) {
        String text = config.string("text", "hello"); // a bad value is reported by its key path
        int maxNameLength = config.integer("max-name-length", 32, 1, 1024);
        return (exchange, chain) -> {
            String name = exchange.requestHeaders().first("X-Name");
            if (name != null && name.length() > maxNameLength) {
                return exchange.error(NAME_TOO_LONG, "at most " + maxNameLength + " characters");
            }
            return chain.proceed().withHeader("X-Greeting", name == null ? text : text + ", " + name);
        };
    }
}
