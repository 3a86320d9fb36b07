package dev.modelgate.plugins.jwt;

/**
 * YAML for a test gateway on the loopback address whose routes all lead to one {@code counting} backend named
 * {@code model}, so {@link CountingBackendProvider} can tell what reached it. Middlewares are YAML list items
 * ({@code - type: ...}), written without indentation; this class indents them where they belong.
 */
final class GatewayYaml {

    /** The route middleware that admits the role {@code predict} to the {@code predict} operation only. */
    static final String AUTHORIZE_PREDICT = """
            - type: authorize
              roles: [predict]
              operations: [predict]
            """;

    private final String counter;
    private final StringBuilder middlewares = new StringBuilder();
    private final StringBuilder routes = new StringBuilder();

    private GatewayYaml(String counter) {
        this.counter = counter;
    }

    /** A gateway whose backend counts its calls under {@code counter}. */
    static GatewayYaml counting(String counter) {
        return new GatewayYaml(counter);
    }

    /** A jwt middleware with {@code settings}, one {@code key: value} a line. */
    static String jwt(String settings) {
        return "- type: jwt\n" + settings.indent(2);
    }

    /** Adds {@code middleware} in front of every route. */
    GatewayYaml middleware(String middleware) {
        middlewares.append(middleware.indent(2));
        return this;
    }

    /** Adds a route from {@code model} to the counting backend, behind {@code routeMiddlewares} if any. */
    GatewayYaml route(String model, String... routeMiddlewares) {
        routes.append("  - model: ").append(model).append('\n').append("    backend: model\n");
        if (routeMiddlewares.length > 0) {
            routes.append("    middlewares:\n");
            for (String middleware : routeMiddlewares) {
                routes.append(middleware.indent(6));
            }
        }
        return this;
    }

    /** The configuration as built so far. */
    String yaml() {
        return "server:\n  address: 127.0.0.1\n"
                + (middlewares.isEmpty() ? "" : "middlewares:\n" + middlewares)
                + "backends:\n  model:\n    type: counting\n    counter: " + counter + '\n'
                + "routes:\n" + routes;
    }
}
