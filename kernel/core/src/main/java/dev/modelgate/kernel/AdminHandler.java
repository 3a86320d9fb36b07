package dev.modelgate.kernel;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.modelgate.spi.ClientAddress;
import dev.modelgate.spi.CoreErrors;
import dev.modelgate.spi.Json;
import dev.modelgate.spi.Operation;
import dev.modelgate.spi.RejectionException;
import dev.modelgate.spi.ErrorCode;
import dev.modelgate.spi.Response;
import dev.modelgate.spi.admin.AdminEndpoint;
import dev.modelgate.spi.admin.AdminRequest;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.Headers;
import java.nio.charset.StandardCharsets;
import java.util.Deque;
import java.util.Set;
import java.util.concurrent.Executor;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * The admin listener, on loopback unless configured otherwise. {@code /healthz} (alive), {@code /readyz}
 * (configuration loaded and not draining) and {@code /metrics} (Prometheus text) stay open for probes and scrapers
 * and are answered on the IO thread. Every other endpoint ({@code /plugins}, {@code POST /reload}, and those of admin
 * endpoint plugins: profiling) needs the admin token or passes the admin pipeline, on a virtual thread.
 */
final class AdminHandler implements HttpHandler {

    private static final System.Logger LOG = System.getLogger(AdminHandler.class.getName());

    /** The paths the kernel answers itself; no plugin may serve them. */
    static final Set<String> KERNEL_PATHS = Set.of("/healthz", "/readyz", "/metrics", "/plugins", "/reload");

    private static final FrontCall ADMIN =
            new FrontCall(GatewayFront.INSTANCE, Operation.ADMIN, null, null, "admin", "GET", "v1");
    private static final RequestBody NO_BODY = new RequestBody(new byte[0], null);

    private final Supplier<Deployment> deployment;
    private final Supplier<Reloader.Outcome> reload;
    private final MetricsRegistry metrics;
    private final BooleanSupplier ready;
    private final Executor executor;

    AdminHandler(Supplier<Deployment> deployment, Supplier<Reloader.Outcome> reload, MetricsRegistry metrics,
            BooleanSupplier ready, Executor executor) {
        this.deployment = deployment;
        this.reload = reload;
        this.metrics = metrics;
        this.ready = ready;
        this.executor = executor;
    }

    @Override
    public void handleRequest(HttpServerExchange http) {
        String method = http.getRequestMethod().toString();
        if (http.getRequestPath().equals("/reload")) {
            if (method.equals("POST")) {
                guarded(http, this::reload);
            } else {
                ResponseWriter.write(http, GatewayFront.INSTANCE.error(CoreErrors.METHOD_NOT_ALLOWED, "use POST")
                        .withHeader("Allow", "POST"));
            }
            return;
        }
        if (!method.equals("GET") && !method.equals("HEAD")) {
            ResponseWriter.write(http, GatewayFront.INSTANCE.error(CoreErrors.METHOD_NOT_ALLOWED, "use GET")
                    .withHeader("Allow", "GET"));
            return;
        }
        switch (http.getRequestPath()) {
            case "/healthz" -> ResponseWriter.write(http, json(200, "{\"status\":\"UP\"}"));
            case "/readyz" -> ResponseWriter.write(http, readiness());
            case "/metrics" -> {
                MetricsRegistry.Scrape scrape = metrics.scrape(http.getRequestHeaders().getFirst("Accept"));
                ResponseWriter.write(http, Response.of(200, scrape.contentType(), scrape.body()));
            }
            case "/plugins" -> guarded(http, this::pluginList);
            default -> {
                AdminEndpoint endpoint = deployment.get().adminEndpoints().get(http.getRequestPath());
                if (endpoint == null) {
                    ResponseWriter.write(http, GatewayFront.INSTANCE.error(CoreErrors.NO_SUCH_ENDPOINT,
                            "'" + http.getRequestPath() + "'"));
                } else {
                    guarded(http, () -> serve(endpoint, http));
                }
            }
        }
    }

    /** A plugin's endpoint, which always answers: what it throws is a 500 naming the path, the trace logged. */
    private static Response serve(AdminEndpoint endpoint, HttpServerExchange http) {
        String path = http.getRequestPath();
        try {
            Response response = endpoint.handle(new AdminRequest() {
                @Override
                public String path() {
                    return path;
                }

                @Override
                public String parameter(String name) {
                    Deque<String> values = http.getQueryParameters().get(name);
                    return values == null ? null : values.peekFirst();
                }

                @Override
                public Response error(ErrorCode errorCode, String detail) {
                    return GatewayFront.INSTANCE.error(errorCode, detail);
                }
            });
            if (response == null) {
                throw new IllegalStateException("the endpoint returned no response");
            }
            return response;
        } catch (RejectionException e) {
            return GatewayFront.INSTANCE.error(e.errorCode(), e.getMessage());
        } catch (Exception e) {
            LOG.log(System.Logger.Level.ERROR, "admin endpoint " + path + " failed", e);
            return GatewayFront.INSTANCE.error(CoreErrors.INTERNAL, "admin endpoint " + path + " failed");
        }
    }

    /** Ready while serving (not draining) and every backend says it can serve; names the backends that cannot. */
    private Response readiness() {
        if (!ready.getAsBoolean()) {
            return json(503, "{\"status\":\"NOT_READY\",\"reason\":\"draining\"}");
        }
        ObjectNode status = Json.MAPPER.createObjectNode().put("status", "READY");
        ArrayNode unready = Json.MAPPER.createArrayNode();
        deployment.get().backends().forEach((name, backend) -> {
            if (!backend.ready()) {
                unready.add(name);
            }
        });
        if (!unready.isEmpty()) {
            status.put("status", "NOT_READY").set("unready_backends", unready);
        }
        return Response.of(unready.isEmpty() ? 200 : 503, "application/json", status.toString()
                .getBytes(StandardCharsets.UTF_8));
    }

    /** Serves {@code endpoint} on a virtual thread once the request shows the admin token or passes the pipeline. */
    private void guarded(HttpServerExchange http, Supplier<Response> endpoint) {
        long start = System.nanoTime();
        http.dispatch(executor, () -> ResponseWriter.write(http, authorized(http, endpoint, start)));
    }

    private Response authorized(HttpServerExchange http, Supplier<Response> endpoint, long start) {
        AdminSettings admin = deployment.get().admin();
        if (admin.acceptsToken(http.getRequestHeaders().getFirst(Headers.AUTHORIZATION))) {
            return endpoint.get();
        }
        if (!admin.steps().isEmpty()) {
            UndertowTransport transport = new UndertowTransport(http);
            RealExchange exchange = new RealExchange(transport, transport.passableHeaders(), ADMIN,
                    GatewayFront.INSTANCE, "v1", null, start, Long.MAX_VALUE, true, false, NO_BODY, 0,
                    ClientAddress.PEER);
            return RealChain.run(admin.steps(), exchange, served -> endpoint.get());
        }
        if (admin.token() != null) {
            return GatewayFront.INSTANCE.error(CoreErrors.ADMIN_UNAUTHENTICATED, null)
                    .withHeader("WWW-Authenticate", "Bearer realm=\"modelgate-admin\"");
        }
        return GatewayFront.INSTANCE.error(CoreErrors.ADMIN_DISABLED, null);
    }

    /** Reloads the configuration and the plugins folder: 200 with what changed, or 422 (90101) with why not. */
    private Response reload() {
        Reloader.Outcome outcome = reload.get();
        return Response.of(outcome.applied() ? 200 : CoreErrors.RELOAD_REFUSED.httpStatus(), "application/json",
                outcome.json());
    }

    private Response pluginList() {
        PluginRegistry plugins = deployment.get().plugins();
        ObjectNode data = Json.MAPPER.createObjectNode();
        ArrayNode list = data.putArray("plugins");
        addAll(list, "middleware", plugins.middlewares().values());
        addAll(list, "backend", plugins.backends().values());
        addAll(list, "filter", plugins.filters().values());
        addAll(list, "command", plugins.commands().values());
        addAll(list, "codec", plugins.codecProviders().values());
        addAll(list, "admin", plugins.adminEndpoints().values());
        return Response.of(200, "application/json", Envelope.success(data));
    }

    private static void addAll(ArrayNode list, String kind,
            java.util.Collection<? extends PluginRegistry.Discovered<?>> found) {
        found.forEach(plugin -> list.addObject().put("kind", kind).put("type", plugin.provider().type())
                .put("origin", plugin.origin()));
    }

    private static Response json(int status, String body) {
        return Response.of(status, "application/json", body.getBytes(StandardCharsets.UTF_8));
    }
}
