package dev.modelgate.plugins.authorize;

import dev.modelgate.spi.ConfigNode;
import dev.modelgate.spi.ErrorCode;
import dev.modelgate.spi.Middleware;
import dev.modelgate.spi.MiddlewareProvider;
import dev.modelgate.spi.Operation;
import dev.modelgate.spi.PhasedMiddleware;
import dev.modelgate.spi.PluginContext;
import dev.modelgate.spi.Principal;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The {@code authorize} middleware: lets a request on only when an authentication middleware before it ({@code jwt},
 * {@code api-key}) set a {@link Principal} that holds every required role.
 *
 * <pre>
 * - type: authorize
 *   roles: [predict]          # every one is required; none means any authenticated principal
 *   operations: [predict]     # which it guards: list-models, get-model, predict, admin, other (default: all)
 * </pre>
 *
 * <p>No principal answers 401 ({@link #UNAUTHENTICATED}); a principal without a role answers 403
 * ({@link #MISSING_ROLE}), naming the missing roles but not the ones held.
 */
public final class AuthorizeProvider implements MiddlewareProvider {

    public static final ErrorCode UNAUTHENTICATED =
            new ErrorCode(10301, 401, "UNAUTHENTICATED", "authentication required");
    public static final ErrorCode MISSING_ROLE =
            new ErrorCode(10302, 403, "PERMISSION_DENIED", "missing a required role");

    @Override
    public String type() {
        return "authorize";
    }

    @Override
    public List<ErrorCode> errorCodes() {
        return List.of(UNAUTHENTICATED, MISSING_ROLE);
    }

    @Override
    public Middleware create(ConfigNode config, PluginContext context) {
        Set<String> roles = Set.copyOf(config.strings("roles"));
        Set<Operation> operations = operations(config);
        // Phased: it only checks before the rest of the pipeline, so a route of such steps keeps to the IO thread.
        PhasedMiddleware authorize = exchange -> {
            if (!operations.contains(exchange.operation())) {
                return null;
            }
            Principal principal = exchange.attribute(Principal.ATTRIBUTE);
            if (principal == null) {
                return exchange.error(UNAUTHENTICATED, null).withHeader("WWW-Authenticate", "Bearer");
            }
            List<String> missing = roles.stream().filter(role -> !principal.hasRole(role)).sorted().toList();
            if (!missing.isEmpty()) {
                return exchange.error(MISSING_ROLE, String.join(", ", missing));
            }
            return null;
        };
        return authorize;
    }

    private static String configName(Operation operation) {
        return operation.name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    private static Set<Operation> operations(ConfigNode config) {
        if (!config.has("operations")) {
            return EnumSet.allOf(Operation.class);
        }
        Set<Operation> operations = EnumSet.noneOf(Operation.class);
        List<String> names = config.strings("operations");
        if (names.isEmpty()) {
            // An empty list would guard nothing: a silent hole, never what was meant.
            config.problem("operations", "must name at least one operation, or be left out to guard them all");
        }
        for (String name : names) {
            try {
                operations.add(Operation.valueOf(name.replace('-', '_').toUpperCase(Locale.ROOT)));
            } catch (IllegalArgumentException e) {
                config.problem("operations", "unknown operation '" + name + "'; known: " + String.join(", ",
                        Arrays.stream(Operation.values()).map(AuthorizeProvider::configName).toList()));
            }
        }
        return operations;
    }
}
