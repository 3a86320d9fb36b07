package dev.modelgate.kernel;

import dev.modelgate.spi.Backend;
import dev.modelgate.spi.ConfigNode;
import dev.modelgate.spi.PluginProvider;
import dev.modelgate.spi.admin.AdminEndpoint;
import dev.modelgate.kernel.upstream.IoUpstreamHttp;
import dev.modelgate.spi.front.ListenerFront;
import dev.modelgate.spi.upstream.UpstreamHttp;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * A configuration turned into running parts: server settings, backends, and one pipeline per (model, version).
 * Immutable; built whole or not at all. {@link #close()} closes every middleware and backend it holds.
 *
 * <p>A reload builds a new deployment with the one being served as {@code previous}: a backend (with its filters)
 * or a middleware whose configuration node and plugin class did not change, and whose backends it asked for
 * ({@link dev.modelgate.spi.PluginContext#backend}) are carried over too, is not built again: the new deployment
 * holds the same {@link Part}, so its pools, health, circuit state and rate-limit buckets live on. The listener
 * fronts (the gRPC listener) are always carried over: they hold ports. Who closes a part shared that way is
 * {@link LiveDeployment}'s business; {@link #close()} is for a deployment nobody shares (validate, a failed start).
 *
 * <p>Requests hold a deployment with a lease ({@link #tryAcquire()}, {@link #release()}); the gateway holds one
 * more while the deployment is the one being served.
 */
public final class Deployment implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(Deployment.class.getName());

    private final ServerSettings server;
    private final List<Step> globalSteps;
    private final Map<String, Backend> backends;
    private final Map<String, Map<String, Route>> routesByModel;
    private final List<Part> parts;
    private final PluginRegistry plugins;
    private final List<String> restartNeeded;
    /** The gateway's lease while this is the deployment being served, plus one per request running on it. */
    private final java.util.concurrent.atomic.AtomicInteger leases = new java.util.concurrent.atomic.AtomicInteger(1);
    private final AdminSettings admin;
    private final Map<String, AdminEndpoint> adminEndpoints;
    private final java.util.SortedSet<String> apiVersions;
    private final Fronts fronts;
    private final Codecs codecs;
    private final List<ListenerFront> listenerFronts;

    private Deployment(ServerSettings server, Fronts fronts, Codecs codecs, List<Step> globalSteps,
            Map<String, Backend> backends, Map<String, Map<String, Route>> routesByModel, AdminSettings admin,
            Map<String, AdminEndpoint> adminEndpoints, List<ListenerFront> listenerFronts, List<Part> parts,
            PluginRegistry plugins, List<String> restartNeeded) {
        this.server = server;
        this.adminEndpoints = Map.copyOf(adminEndpoints);
        this.plugins = plugins;
        this.restartNeeded = List.copyOf(restartNeeded);
        this.listenerFronts = List.copyOf(listenerFronts);
        this.fronts = fronts;
        this.codecs = codecs;
        this.admin = admin;
        this.parts = List.copyOf(parts);
        this.globalSteps = List.copyOf(globalSteps);
        this.backends = Collections.unmodifiableMap(backends);
        this.routesByModel = Collections.unmodifiableMap(routesByModel);
        java.util.SortedSet<String> versions = new java.util.TreeSet<>();
        routesByModel.values().forEach(byVersion -> versions.addAll(byVersion.keySet()));
        this.apiVersions = Collections.unmodifiableSortedSet(versions);
    }

    /** Thrown when the configuration has problems; each names its exact key path. */
    public static final class InvalidConfigException extends Exception {
        private final List<String> problems;

        InvalidConfigException(String origin, List<String> problems) {
            super("invalid configuration " + origin + ":\n  " + String.join("\n  ", problems));
            this.problems = List.copyOf(problems);
        }

        public List<String> problems() {
            return problems;
        }
    }

    /**
     * Builds every plugin instance the configuration names, each from its own node.
     *
     * @throws InvalidConfigException listing every problem found, after closing whatever was built
     */
    public static Deployment build(ConfigSource source, PluginRegistry plugins, MetricsRegistry metrics,
            CommandLine overrides, Clock clock) throws InvalidConfigException {
        return build(source, plugins, metrics, overrides, clock, new IoUpstreamHttp());
    }

    /** {@link #build}, its backends calling upstream servers through {@code upstream}. */
    static Deployment build(ConfigSource source, PluginRegistry plugins, MetricsRegistry metrics,
            CommandLine overrides, Clock clock, UpstreamHttp upstream) throws InvalidConfigException {
        return build(source, plugins, metrics, overrides, clock, null, null, upstream);
    }

    /**
     * {@link #build}, telling {@code recorder} (when not {@code null}) of every key the kernel and plugins read, and
     * carrying over from {@code previous} (when not {@code null}) the parts whose configuration did not change, its
     * backends calling upstream servers through {@code upstream}.
     */
    static Deployment build(ConfigSource source, PluginRegistry plugins, MetricsRegistry metrics,
            CommandLine overrides, Clock clock, Consumer<ConfigNode.KeyRead> recorder, Deployment previous,
            UpstreamHttp upstream) throws InvalidConfigException {
        List<String> problems = new ArrayList<>(source.problems());
        if (source.unreadable()) {
            throw new InvalidConfigException(source.origin(), problems);
        }
        ConfigNode root = recorder == null ? ConfigNode.root(source.tree(), problems)
                : ConfigNode.recording(source.tree(), problems, recorder);
        // First: plugins are built with the gateway's locality (PluginContext.locality).
        ServerSettings server = ServerSettings.from(root.child("server"), overrides);
        DeploymentBuilder builder = new DeploymentBuilder(plugins, metrics, clock, problems, server.locality(),
                previous, upstream);
        try {
            ConfigNode frontsSection = root.child("fronts");
            Fronts fronts = Fronts.from(frontsSection, Main.version(), plugins.fronts().keySet());
            List<ListenerFront> listenerFronts = builder.listenerFronts(frontsSection, server);
            // Backends first: a middleware may fall back to one (PluginContext.backend).
            ConfigNode backendsSection = root.child("backends");
            Map<String, Backend> backends = builder.backends(backendsSection);
            List<Step> globalSteps = builder.middlewares(root, "middlewares");
            Map<String, Map<String, Route>> routes = builder.routes(root, globalSteps, backendsSection, backends,
                    fronts);
            fronts.checkRoutes(frontsSection, routes.keySet());
            ConfigNode adminSection = root.child("admin");
            AdminSettings admin = builder.admin(adminSection);
            Map<String, AdminEndpoint> adminEndpoints = builder.adminEndpoints(adminSection);
            root.reportUnknownKeys();
            Deployment deployment = new Deployment(server, fronts, plugins.codecs(), globalSteps, backends, routes,
                    admin, adminEndpoints, listenerFronts, builder.parts, plugins, builder.restartNeeded);
            problems.removeIf(source::followsFromUnsetVariable);
            if (!problems.isEmpty()) {
                throw new InvalidConfigException(source.origin(), problems);
            }
            return deployment;
        } catch (InvalidConfigException | RuntimeException | Error e) {
            builder.closeAll();
            throw e;
        }
    }

    /**
     * One plugin instance a deployment runs: the configuration node it was built from, the provider that built it,
     * the backends it asked the kernel for (filled in as it asks), and the metrics it registered, which leave the
     * scrape when it is closed.
     */
    static final class Part {
        final String path;
        final com.fasterxml.jackson.databind.JsonNode config;
        final PluginProvider provider;
        final MetricsRegistry.Owner metrics;
        final Set<String> backendsUsed = java.util.concurrent.ConcurrentHashMap.newKeySet();
        Object instance;

        Part(ConfigNode node, PluginProvider provider, MetricsRegistry.Owner metrics) {
            this.path = node.path();
            this.config = node.snapshot();
            this.provider = provider;
            this.metrics = metrics;
        }

        @SuppressWarnings("unchecked")
        <T> T instance() {
            return (T) instance;
        }

        /** Closes the instance and takes its metrics off the scrape. */
        void close() {
            if (instance instanceof AutoCloseable closeable) {
                closeQuietly(closeable);
            }
            metrics.release();
        }

        @Override
        public String toString() {
            return path;
        }
    }

    private static void closeQuietly(AutoCloseable closeable) {
        try {
            closeable.close();
        } catch (Exception e) {
            LOG.log(System.Logger.Level.WARNING, "closing " + closeable + " failed", e);
        }
    }

    public ServerSettings server() {
        return server;
    }

    Fronts fronts() {
        return fronts;
    }

    Codecs codecs() {
        return codecs;
    }

    /** The fronts with listeners of their own, built but not started. */
    List<ListenerFront> listenerFronts() {
        return listenerFronts;
    }

    AdminSettings admin() {
        return admin;
    }

    /** The admin endpoints that plugins serve, by path. */
    Map<String, AdminEndpoint> adminEndpoints() {
        return adminEndpoints;
    }

    /** The middlewares that run for every request, including those that match no route. */
    List<Step> globalSteps() {
        return globalSteps;
    }

    /** Routes by model name, then by API version. */
    Map<String, Map<String, Route>> routes() {
        return routesByModel;
    }

    Map<String, Backend> backends() {
        return backends;
    }

    /** Every API version some route serves, sorted. */
    java.util.SortedSet<String> apiVersions() {
        return apiVersions;
    }

    /** The registry whose plugins built it. */
    PluginRegistry plugins() {
        return plugins;
    }

    /** Every plugin instance it runs, built or carried over, in build order. */
    List<Part> parts() {
        return parts;
    }

    /** The keys of listener fronts whose change a reload could not apply. */
    List<String> restartNeeded() {
        return restartNeeded;
    }

    Part partAt(String path) {
        return parts.stream().filter(part -> part.path.equals(path)).findFirst().orElse(null);
    }

    /** The filter parts of the backend part {@code backend}. */
    List<Part> filterParts(Part backend) {
        return parts.stream().filter(part -> part.path.startsWith(backend.path + ".filters[")).toList();
    }

    /** The backends that the backend at {@code path} and its filters asked for. */
    Set<String> backendsUsedBy(String path) {
        Part backend = partAt(path);
        Set<String> used = new java.util.HashSet<>(backend.backendsUsed);
        filterParts(backend).forEach(filter -> used.addAll(filter.backendsUsed));
        return used;
    }

    /** Takes a lease: {@code false} once the deployment was retired and its last lease released. */
    boolean tryAcquire() {
        int held;
        do {
            held = leases.get();
            if (held == 0) {
                return false;
            }
        } while (!leases.compareAndSet(held, held + 1));
        return true;
    }

    /** Gives a lease back: {@code true} when it was the last one, and the deployment is to be closed. */
    boolean release() {
        return leases.decrementAndGet() == 0;
    }

    /** Closes every middleware, filter, backend and listener front it holds, in reverse order. */
    @Override
    public void close() {
        parts.reversed().forEach(Part::close);
    }
}
