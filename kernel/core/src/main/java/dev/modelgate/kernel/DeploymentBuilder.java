package dev.modelgate.kernel;

import dev.modelgate.spi.Backend;
import dev.modelgate.spi.BackendFilter;
import dev.modelgate.spi.BackendFilterProvider;
import dev.modelgate.spi.BackendProvider;
import dev.modelgate.spi.ConfigNode;
import dev.modelgate.spi.Middleware;
import dev.modelgate.spi.MiddlewareProvider;
import dev.modelgate.spi.PluginProvider;
import dev.modelgate.spi.admin.AdminEndpoint;
import dev.modelgate.spi.admin.AdminEndpointProvider;
import dev.modelgate.spi.front.FrontProvider;
import dev.modelgate.spi.front.ListenerFront;
import dev.modelgate.spi.inference.InferenceBackend;
import dev.modelgate.spi.upstream.UpstreamHttp;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Builds the parts of a {@link Deployment} from the configuration's sections, each plugin instance from its own node,
 * and remembers each, so that a failed build closes what it made. On a reload it takes over from the previous
 * deployment, as they are, the parts whose node and plugin class did not change (see {@link Deployment}).
 */
final class DeploymentBuilder {

    private static final System.Logger LOG = System.getLogger(Deployment.class.getName());
    private static final Pattern MODEL_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");
    private static final Pattern API_VERSION = Pattern.compile("v[1-9][0-9]?");

    private final PluginRegistry plugins;
    private final List<String> problems;
    private final MetricsRegistry metrics;
    private final Clock clock;
    private final Optional<String> locality;
    private final Set<Integer> declaredCodes;
    private final Deployment previous;
    private final UpstreamHttp upstream;
    /** Every part of the deployment, built or carried over, in build order. */
    final List<Deployment.Part> parts = new ArrayList<>();
    /** The parts built here, which a failed build closes. */
    private final List<Deployment.Part> built = new ArrayList<>();
    final List<String> restartNeeded = new ArrayList<>();
    private final Map<String, Backend> builtBackends = new LinkedHashMap<>();
    private final Map<String, List<FilterStep>> builtFilters = new LinkedHashMap<>();
    private Set<String> carriedBackends = Set.of();

    DeploymentBuilder(PluginRegistry plugins, MetricsRegistry metrics, Clock clock, List<String> problems,
            Optional<String> locality, Deployment previous, UpstreamHttp upstream) {
        this.upstream = upstream;
        this.problems = problems;
        this.locality = locality;
        this.plugins = plugins;
        this.declaredCodes = ErrorCatalog.of(plugins).codes();
        this.metrics = metrics;
        this.clock = clock;
        this.previous = previous;
    }

    private RealPluginContext context(Deployment.Part part, String type) {
        return new RealPluginContext(part.path, part.metrics, clock,
                System.getLogger("dev.modelgate.plugin." + type),
                name -> {
                    part.backendsUsed.add(name);
                    return java.util.Optional.ofNullable(builtBackends.get(name))
                            .map(backend -> exchange -> RealChain.guard(exchange,
                                    guarded -> Predictor.predict(name, backend,
                                            builtFilters.getOrDefault(name, List.of()), (RealExchange) guarded,
                                            plugins.codecs(), metrics)));
                },
                plugins.codecs(), plugins.balancers(), locality, upstream);
    }

    /**
     * Whether the previous deployment's part at {@code node}'s path can serve on: built from the same
     * configuration by the same plugin class (of {@code known}, from the same jar), and every backend it asked
     * for carried over too.
     */
    private boolean unchanged(ConfigNode node, Map<String, ? extends PluginRegistry.Discovered<?>> known) {
        Deployment.Part part = previous == null ? null : previous.partAt(node.path());
        return part != null && part.config.equals(node.snapshot()) && sameProvider(part, known)
                && carriedBackends.containsAll(part.backendsUsed);
    }

    private static boolean sameProvider(Deployment.Part part, Map<String, ? extends PluginRegistry.Discovered<?>> known) {
        PluginRegistry.Discovered<?> found = known.get(part.provider.type());
        return found != null && found.provider().getClass() == part.provider.getClass();
    }

    /** Takes the previous deployment's part at {@code node}'s path into this one, as it is. */
    private <T> T carryOver(ConfigNode node) {
        Deployment.Part part = previous.partAt(node.path());
        node.raw();
        parts.add(part);
        return part.instance();
    }

    List<Step> middlewares(ConfigNode parent, String key) {
        List<Step> steps = new ArrayList<>();
        for (ConfigNode node : parent.list(key)) {
            String type = node.string("type");
            MiddlewareProvider provider = provider(node, type, plugins.middlewares(), "middleware");
            Middleware middleware = unchanged(node, plugins.middlewares()) ? carryOver(node)
                    : provider == null ? null
                    : create(node, provider, part -> provider.create(node, context(part, type)));
            if (middleware != null) {
                steps.add(new Step(type, node.path(), middleware, provider.repeatsProceed(), declaredCodes));
            }
        }
        return steps;
    }

    /**
     * Every discovered front with a listener of its own, each from {@code fronts.<type>}; one that its
     * configuration turns off is left out.
     */
    List<ListenerFront> listenerFronts(ConfigNode section, ServerSettings server) {
        if (previous != null) {
            return carriedListenerFronts(section);
        }
        ErrorCatalog catalog = ErrorCatalog.of(plugins);
        List<ListenerFront> fronts = new ArrayList<>();
        for (var discovered : plugins.fronts().values()) {
            FrontProvider provider = discovered.provider();
            ConfigNode node = section.child(provider.type());
            Optional<ListenerFront> front = create(node, provider, part -> provider.create(node,
                    new ListenerFronts.Context(server, catalog, part.metrics,
                            System.getLogger("dev.modelgate.plugin." + provider.type()))));
            if (front != null && front.isPresent()) {
                built.getLast().instance = front.get();
                fronts.add(front.get());
            }
        }
        return fronts;
    }

    /**
     * The listener fronts of the previous deployment, which keep running: they hold their ports. A change of
     * their configuration, or a front plugin that was not there at start, is reported as needing a restart.
     */
    private List<ListenerFront> carriedListenerFronts(ConfigNode section) {
        Set<String> known = new java.util.HashSet<>();
        for (Deployment.Part part : previous.parts()) {
            if (part.provider instanceof FrontProvider provider) {
                ConfigNode node = section.child(provider.type());
                node.raw();
                known.add(provider.type());
                parts.add(part);
                if (!part.config.equals(node.snapshot())) {
                    restartNeeded.add(node.path());
                }
            }
        }
        for (String type : plugins.fronts().keySet()) {
            if (!known.contains(type)) {
                section.child(type).raw();
                restartNeeded.add(section.pathOf(type) + " (a front plugin added since the start)");
            }
        }
        return List.copyOf(previous.listenerFronts());
    }

    Map<String, Backend> backends(ConfigNode section) {
        Map<String, Backend> backends = new LinkedHashMap<>();
        Map<String, ConfigNode> nodes = new LinkedHashMap<>();
        carriedBackends = carriedBackends(section);
        for (String name : section.keys()) {
            ConfigNode node = section.child(name);
            nodes.put(name, node);
            if (!MODEL_NAME.matcher(name).matches()) {
                section.problem(name, "backend names are letters, digits, '.', '_' and '-'");
            }
            if (carriedBackends.contains(name)) {
                backends.put(name, carryOver(node));
                continue;
            }
            String type = node.string("type");
            BackendProvider provider = provider(node, type, plugins.backends(), "backend");
            Backend backend = provider == null ? null
                    : create(node, provider, part -> provider.create(node, context(part, type)));
            if (backend != null) {
                backends.put(name, backend);
            }
        }
        builtBackends.putAll(backends);
        // After every backend: a filter may fall back to another backend (PluginContext.backend).
        nodes.forEach((name, node) -> builtFilters.put(name, filters(node, backends.get(name))));
        return backends;
    }

    /**
     * The backends of the previous deployment that serve on: node (filters included) and plugin classes
     * unchanged, and every backend that they or their filters asked for served on too.
     */
    private Set<String> carriedBackends(ConfigNode section) {
        Set<String> carried = new java.util.HashSet<>();
        if (previous == null) {
            return carried;
        }
        // Read from the snapshot: a child node asked for here and not read would report its keys as unknown.
        com.fasterxml.jackson.databind.JsonNode nodes = section.snapshot();
        for (String name : section.keys()) {
            Deployment.Part part = previous.partAt(section.pathOf(name));
            if (part != null && part.config.equals(nodes.get(name)) && sameProvider(part, plugins.backends())
                    && previous.filterParts(part).stream()
                            .allMatch(filter -> sameProvider(filter, plugins.filters()))) {
                carried.add(name);
            }
        }
        // A carried backend (or filter) still calls the backends it asked for: they must be carried too.
        while (carried.removeIf(name -> !carried.containsAll(previous.backendsUsedBy(section.pathOf(name))))) {
            // again, until nothing more drops out
        }
        return carried;
    }

    /** A backend's own filter chain, {@code backends.NAME.filters}, in order. */
    private List<FilterStep> filters(ConfigNode backendNode, Backend backend) {
        List<FilterStep> steps = new ArrayList<>();
        boolean carriedBackend = carriedBackends.contains(backendNode.path().substring("backends.".length()));
        for (ConfigNode node : backendNode.list("filters")) {
            String type = node.string("type");
            BackendFilterProvider provider = provider(node, type, plugins.filters(), "filter");
            BackendFilter filter = carriedBackend ? carryOver(node) : provider == null ? null
                    : create(node, provider, part -> provider.create(node, context(part, type)));
            if (filter != null && provider.needsTensors() && backend != null
                    && !(backend instanceof InferenceBackend)) {
                node.problem("type", "the " + type + " filter works on tensors, but this backend forwards bytes "
                        + "as they are: give it a protocol it decodes (for an http backend, protocol: tf-serving "
                        + "or kserve-v2)");
            } else if (filter != null) {
                steps.add(new FilterStep(type, node.path(), filter, provider.repeatsProceed(),
                        provider.needsTensors(), declaredCodes));
            }
        }
        return List.copyOf(steps);
    }

    List<FilterStep> filtersOf(String backendName) {
        return builtFilters.getOrDefault(backendName, List.of());
    }

    /** The provider of {@code type}, or {@code null} after reporting an unknown type on {@code node}. */
    private static <P extends PluginProvider> P provider(ConfigNode node, String type,
            Map<String, PluginRegistry.Discovered<P>> known, String kind) {
        PluginRegistry.Discovered<P> discovered = known.get(type);
        if (discovered != null) {
            return discovered.provider();
        }
        if (!type.isEmpty()) {
            node.problem("type", "unknown " + kind + " type '" + type + "'; known types: "
                    + String.join(", ", known.keySet()));
        }
        node.raw();
        return null;
    }

    Map<String, Map<String, Route>> routes(ConfigNode root, List<Step> globalSteps,
            ConfigNode backendsSection, Map<String, Backend> backends, Fronts fronts) {
        Map<String, Map<String, Route>> routes = new LinkedHashMap<>();
        for (ConfigNode node : root.list("routes")) {
            String model = node.string("model");
            if (!model.isEmpty() && !MODEL_NAME.matcher(model).matches()) {
                node.problem("model", "model names are 1 to 128 letters, digits, '.', '_' and '-'");
            }
            String backendName = node.string("backend");
            Backend backend = backends.get(backendName);
            if (backend == null && !backendName.isEmpty() && !backendsSection.has(backendName)) {
                node.problem("backend", "unknown backend '" + backendName + "'; known backends: "
                        + String.join(", ", backendsSection.keys()));
            }
            List<Step> steps = new ArrayList<>(globalSteps);
            steps.addAll(middlewares(node, "middlewares"));
            Duration timeout = node.has("timeout") ? node.duration("timeout", null) : null;
            checkTimeoutLayers(node, timeout, backendName, backend);
            boolean idempotent = node.bool("idempotent", false);
            boolean acceptsNonFinite = node.bool("accepts-non-finite", false);
            java.util.Set<String> routeFronts = fronts(node, fronts);
            for (String version : versions(node)) {
                Route route = new Route(model, version, backendName, backend, filtersOf(backendName), steps,
                        timeout, idempotent, acceptsNonFinite, routeFronts);
                if (routes.computeIfAbsent(model, m -> new LinkedHashMap<>()).putIfAbsent(version, route) != null) {
                    node.problem("model '" + model + "' version " + version + " is routed twice");
                }
            }
        }
        if (routes.isEmpty()) {
            root.problem("routes", "at least one route is required");
        }
        return routes;
    }

    /** A route's deadline must leave its backend's whole call time, or the backend's own timeout never fires. */
    private static void checkTimeoutLayers(ConfigNode route, Duration timeout, String backendName,
            Backend backend) {
        if (timeout == null || backend == null) {
            return;
        }
        backend.callTimeout().filter(callTimeout -> timeout.compareTo(callTimeout) <= 0).ifPresent(
                callTimeout -> route.problem("timeout", "must be longer than backend '" + backendName
                        + "''s call timeout of " + callTimeout.toMillis() + "ms (connect-timeout + "
                        + "request-timeout), but was " + timeout.toMillis() + "ms"));
    }

    AdminSettings admin(ConfigNode section) {
        String token = section.string("token", "");
        if (!token.isEmpty() && token.length() < AdminSettings.MIN_TOKEN_LENGTH) {
            section.problem("token", "must be at least " + AdminSettings.MIN_TOKEN_LENGTH
                    + " characters, but has " + token.length());
        }
        return new AdminSettings(token.isEmpty() ? null : token, middlewares(section, "middlewares"));
    }

    /**
     * Every discovered plugin's admin endpoints, each plugin's from {@code admin.<type>}, by path; a path that
     * the kernel or another plugin already serves is a problem on the later plugin's node.
     */
    Map<String, AdminEndpoint> adminEndpoints(ConfigNode section) {
        Map<String, AdminEndpoint> endpoints = new java.util.TreeMap<>();
        Map<String, String> servedBy = new java.util.HashMap<>();
        AdminHandler.KERNEL_PATHS.forEach(path -> servedBy.put(path, "the kernel"));
        for (var discovered : plugins.adminEndpoints().values()) {
            AdminEndpointProvider provider = discovered.provider();
            ConfigNode node = section.child(provider.type());
            Map<String, AdminEndpoint> built = unchanged(node, plugins.adminEndpoints()) ? carryOver(node)
                    : create(node, provider, part -> provider.create(node, context(part, provider.type())));
            if (built == null) {
                continue;
            }
            built.forEach((path, endpoint) -> {
                String earlier = servedBy.putIfAbsent(path, "plugin '" + provider.type() + "'");
                if (earlier != null) {
                    node.problem("the admin path " + path + " is already served by " + earlier);
                } else if (!path.startsWith("/")) {
                    node.problem("admin paths start with '/', but '" + path + "' does not");
                } else {
                    endpoints.put(path, endpoint);
                }
            });
        }
        return endpoints;
    }

    /** The fronts a route lists in {@code fronts:}; empty (every front) when it lists none. */
    private static java.util.Set<String> fronts(ConfigNode route, Fronts fronts) {
        if (!route.has("fronts")) {
            return java.util.Set.of();
        }
        List<String> listed = route.strings("fronts");
        for (String front : listed) {
            if (!fronts.names().contains(front)) {
                route.problem("fronts", "unknown front '" + front + "'; known fronts: "
                        + String.join(", ", fronts.names()));
            }
        }
        if (listed.isEmpty()) {
            route.problem("fronts", "list at least one front, or leave the key out for every front");
        }
        return java.util.Set.copyOf(listed);
    }

    private static List<String> versions(ConfigNode route) {
        List<String> versions = route.has("versions") ? route.strings("versions")
                : List.of(route.string("version", "v1"));
        if (route.has("versions") && route.has("version")) {
            route.problem("version", "give either 'version' or 'versions', not both");
        }
        for (String version : versions) {
            if (!API_VERSION.matcher(version).matches()) {
                route.problem(route.has("versions") ? "versions" : "version",
                        "API versions are written v1, v2, ..., but was '" + version + "'");
            }
        }
        return versions;
    }

    private interface Factory<T> {
        T create(Deployment.Part part) throws Exception;
    }

    /** Builds one instance as a new part; an exception becomes a problem on its node rather than a crash. */
    private <T> T create(ConfigNode node, PluginProvider provider, Factory<T> factory) {
        Deployment.Part part = new Deployment.Part(node, provider, metrics.owner());
        built.add(part);
        parts.add(part);
        try {
            int problemsBefore = problems.size();
            T instance = factory.create(part);
            part.instance = instance;
            if (instance == null) {
                // Plugins may return null after reporting a problem; without one it is the plugin's bug.
                if (problems.size() == problemsBefore) {
                    node.problem("the plugin built nothing and reported no problem");
                }
                return null;
            }
            return instance;
        } catch (Exception | LinkageError e) {
            // LinkageError: a native library that does not load, a class a plugin jar lacks.
            node.raw();
            node.problem("cannot build: " + (e.getMessage() != null ? e.getMessage() : e.toString()));
            LOG.log(System.Logger.Level.DEBUG, "building " + node.path() + " failed", e);
            return null;
        }
    }

    void closeAll() {
        built.reversed().forEach(Deployment.Part::close);
    }
}
