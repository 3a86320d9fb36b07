package dev.modelgate.kernel;

import dev.modelgate.spi.BackendFilterProvider;
import dev.modelgate.spi.BackendProvider;
import dev.modelgate.spi.CommandProvider;
import dev.modelgate.spi.MiddlewareProvider;
import dev.modelgate.spi.PluginProvider;
import dev.modelgate.spi.admin.AdminEndpointProvider;
import dev.modelgate.spi.balancer.BalancerProvider;
import dev.modelgate.spi.front.FrontProvider;
import dev.modelgate.spi.inference.CodecProvider;
import java.io.IOException;
import java.net.MalformedURLException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.TreeMap;
import java.util.jar.JarFile;
import java.util.stream.Stream;

/**
 * The plugin providers the gateway knows, found with {@link ServiceLoader}: those in the gateway jar, then those in
 * each jar of the plugins folder, every jar in its own class loader, child of the kernel's.
 *
 * <p>Immutable once built. Two providers of the same kind and type are an error naming both origins.
 */
public final class PluginRegistry implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(PluginRegistry.class.getName());

    /** Where a provider came from, for {@code plugins} listings and error messages. */
    public record Discovered<P extends PluginProvider>(P provider, String origin) {
    }

    private final Map<String, Discovered<MiddlewareProvider>> middlewares;
    private final Map<String, Discovered<BackendProvider>> backends;
    private final Map<String, Discovered<CommandProvider>> commands;
    private final Map<String, Discovered<CodecProvider>> codecProviders;
    private final Map<String, Discovered<BackendFilterProvider>> filters;
    private final Map<String, Discovered<FrontProvider>> fronts;
    private final Map<String, Discovered<AdminEndpointProvider>> adminEndpoints;
    private final Map<String, Discovered<BalancerProvider>> balancers;
    private final Codecs codecs;
    private final List<JarLoader> jarLoaders;

    /**
     * The class loader of one plugin jar, and what the jar was when it was opened: a reload reuses the loader of a
     * jar whose size, modification time and content hash are unchanged, and opens a new one for any other.
     */
    record JarLoader(Path jar, String fingerprint, URLClassLoader loader) implements AutoCloseable {

        @Override
        public void close() throws IOException {
            loader.close();
        }
    }

    private PluginRegistry(Map<String, Discovered<MiddlewareProvider>> middlewares,
            Map<String, Discovered<BackendProvider>> backends, Map<String, Discovered<CommandProvider>> commands,
            Map<String, Discovered<CodecProvider>> codecProviders,
            Map<String, Discovered<BackendFilterProvider>> filters, Map<String, Discovered<FrontProvider>> fronts,
            Map<String, Discovered<AdminEndpointProvider>> adminEndpoints,
            Map<String, Discovered<BalancerProvider>> balancers, List<JarLoader> jarLoaders) {
        this.fronts = Collections.unmodifiableMap(fronts);
        this.adminEndpoints = Collections.unmodifiableMap(adminEndpoints);
        this.balancers = Collections.unmodifiableMap(balancers);
        this.codecProviders = Collections.unmodifiableMap(codecProviders);
        this.filters = Collections.unmodifiableMap(filters);
        this.codecs = Codecs.of(codecProviders.values());
        this.middlewares = Collections.unmodifiableMap(middlewares);
        this.backends = Collections.unmodifiableMap(backends);
        this.commands = Collections.unmodifiableMap(commands);
        this.jarLoaders = jarLoaders;
    }

    /**
     * Discovers the built-in providers and those in {@code pluginsDir} (which may be absent).
     *
     * @throws PluginException when a jar cannot be read, a provider cannot be instantiated, or two share a type
     */
    public static PluginRegistry discover(Path pluginsDir) {
        return discover(pluginsDir, false);
    }

    /**
     * Discovers the built-in providers and those in {@code pluginsDir}, which must exist when {@code required} (the
     * operator asked for it), and may be absent otherwise. Logs one line per plugin jar loaded.
     *
     * @throws PluginException naming the jar and the reason when a jar cannot be read or a provider cannot be loaded,
     *     when two providers share a type, or when a required folder is missing
     */
    public static PluginRegistry discover(Path pluginsDir, boolean required) {
        return discover(pluginsDir, required, null);
    }

    /**
     * {@link #discover(Path, boolean)} for a reload: a jar that {@code previous} (may be {@code null}) loaded and
     * that has not changed keeps its class loader, so that the plugin instances built from it can be carried over.
     * Only the loaders opened here are closed when discovery fails.
     */
    static PluginRegistry discover(Path pluginsDir, boolean required, PluginRegistry previous) {
        ClassLoader kernelLoader = PluginRegistry.class.getClassLoader();
        Map<String, Discovered<MiddlewareProvider>> middlewares = new TreeMap<>();
        Map<String, Discovered<BackendProvider>> backends = new TreeMap<>();
        Map<String, Discovered<CommandProvider>> commands = new TreeMap<>();
        Map<String, Discovered<CodecProvider>> codecProviders = new TreeMap<>();
        Map<String, Discovered<BackendFilterProvider>> filters = new TreeMap<>();
        Map<String, Discovered<FrontProvider>> fronts = new TreeMap<>();
        Map<String, Discovered<AdminEndpointProvider>> adminEndpoints = new TreeMap<>();
        Map<String, Discovered<BalancerProvider>> balancers = new TreeMap<>();
        List<JarLoader> jarLoaders = new ArrayList<>();
        List<JarLoader> opened = new ArrayList<>();
        collect(MiddlewareProvider.class, kernelLoader, null, "built in", middlewares, "middleware");
        collect(BackendProvider.class, kernelLoader, null, "built in", backends, "backend");
        collect(CommandProvider.class, kernelLoader, null, "built in", commands, "command");
        collect(CodecProvider.class, kernelLoader, null, "built in", codecProviders, "codec");
        collect(BackendFilterProvider.class, kernelLoader, null, "built in", filters, "filter");
        collect(FrontProvider.class, kernelLoader, null, "built in", fronts, "front");
        collect(AdminEndpointProvider.class, kernelLoader, null, "built in", adminEndpoints, "admin endpoints");
        collect(BalancerProvider.class, kernelLoader, null, "built in", balancers, "balancer");
        try {
            for (Path jar : jars(pluginsDir, required)) {
                checkReadable(jar);
                String fingerprint = fingerprint(jar);
                JarLoader jarLoader = previous == null ? null : previous.jarLoaders.stream()
                        .filter(known -> known.jar().equals(jar) && known.fingerprint().equals(fingerprint))
                        .findFirst().orElse(null);
                if (jarLoader == null) {
                    jarLoader = new JarLoader(jar, fingerprint, new URLClassLoader("plugin:" + jar.getFileName(),
                            new URL[] {url(jar)}, kernelLoader));
                    opened.add(jarLoader);
                }
                jarLoaders.add(jarLoader);
                URLClassLoader loader = jarLoader.loader();
                List<String> types = new ArrayList<>();
                String origin = jar.toString();
                types.addAll(collect(MiddlewareProvider.class, loader, loader, origin, middlewares, "middleware"));
                types.addAll(collect(BackendProvider.class, loader, loader, origin, backends, "backend"));
                types.addAll(collect(CommandProvider.class, loader, loader, origin, commands, "command"));
                types.addAll(collect(CodecProvider.class, loader, loader, origin, codecProviders, "codec"));
                types.addAll(collect(BackendFilterProvider.class, loader, loader, origin, filters, "filter"));
                types.addAll(collect(FrontProvider.class, loader, loader, origin, fronts, "front"));
                types.addAll(collect(AdminEndpointProvider.class, loader, loader, origin, adminEndpoints,
                        "admin endpoints"));
                types.addAll(collect(BalancerProvider.class, loader, loader, origin, balancers, "balancer"));
                if (types.isEmpty()) {
                    LOG.log(System.Logger.Level.WARNING, "plugin jar " + jar + " provides nothing: it has no"
                            + " META-INF/services entry naming a Modelgate provider interface");
                } else {
                    LOG.log(System.Logger.Level.INFO, "loaded plugin jar " + jar + ": " + String.join(", ", types));
                }
            }
        } catch (PluginException e) {
            // The jars already opened would stay open (and locked, on some systems) for the life of the process.
            opened.forEach(PluginRegistry::closeQuietly);
            throw e;
        }
        try {
            return new PluginRegistry(middlewares, backends, commands, codecProviders, filters, fronts,
                    adminEndpoints, balancers, jarLoaders);
        } catch (PluginException e) {
            opened.forEach(PluginRegistry::closeQuietly);
            throw e;
        }
    }

    /** What tells an updated jar from the one loaded before: its size, modification time and SHA-256. */
    private static String fingerprint(Path jar) {
        try {
            java.security.MessageDigest sha = java.security.MessageDigest.getInstance("SHA-256");
            return Files.size(jar) + "/" + Files.getLastModifiedTime(jar).toMillis() + "/"
                    + java.util.HexFormat.of().formatHex(sha.digest(Files.readAllBytes(jar)));
        } catch (IOException | java.security.NoSuchAlgorithmException e) {
            throw new PluginException("plugin jar " + jar + " cannot be read: " + e.getMessage());
        }
    }

    /** The class loaders of the plugin jars, one per jar. */
    List<JarLoader> jarLoaders() {
        return jarLoaders;
    }

    private static void closeQuietly(JarLoader loader) {
        try {
            loader.close();
        } catch (IOException e) {
            // nothing more to do for a jar that will not close
        }
    }

    private static List<Path> jars(Path pluginsDir, boolean required) {
        if (pluginsDir == null || !required && !Files.exists(pluginsDir)) {
            return List.of();
        }
        if (!Files.isDirectory(pluginsDir)) {
            throw new PluginException("plugins folder " + pluginsDir + (Files.exists(pluginsDir)
                    ? " is not a folder" : " does not exist"));
        }
        try (Stream<Path> files = Files.list(pluginsDir)) {
            return files.filter(file -> file.getFileName().toString().endsWith(".jar") && Files.isRegularFile(file))
                    .sorted()
                    .toList();
        } catch (IOException e) {
            throw new PluginException("cannot list plugins folder " + pluginsDir + ": " + e.getMessage());
        }
    }

    /**
     * Opens {@code jar} once as a jar: a class loader would skip a file it cannot read without a word, and the
     * plugin would just be missing.
     */
    private static void checkReadable(Path jar) {
        try (JarFile opened = new JarFile(jar.toFile())) {
            opened.getManifest();
        } catch (IOException e) {
            throw new PluginException("plugin jar " + jar + " cannot be read as a jar: " + e.getMessage());
        }
    }

    private static URL url(Path jar) {
        try {
            return jar.toUri().toURL();
        } catch (MalformedURLException e) {
            throw new PluginException("cannot load plugin jar " + jar + ": " + e.getMessage());
        }
    }

    /**
     * Adds the providers {@code loader} sees and returns what it added, as {@code kindName type}. For a plugin jar,
     * {@code owner} is its loader, and providers that the parent (kernel) loader defined are skipped: they were
     * collected as built in.
     */
    private static <P extends PluginProvider> List<String> collect(Class<P> kind, ClassLoader loader,
            ClassLoader owner, String origin, Map<String, Discovered<P>> into, String kindName) {
        List<String> added = new ArrayList<>();
        try {
            for (ServiceLoader.Provider<P> candidate : ServiceLoader.load(kind, loader).stream().toList()) {
                if (owner != null && candidate.type().getClassLoader() != owner) {
                    continue;
                }
                P provider = candidate.get();
                Discovered<P> earlier = into.putIfAbsent(provider.type(), new Discovered<>(provider, origin));
                if (earlier != null) {
                    throw new PluginException(kind.getSimpleName() + " type '" + provider.type()
                            + "' is provided twice: by " + earlier.origin() + " and by " + origin);
                }
                added.add(kindName + " " + provider.type());
            }
        } catch (ServiceConfigurationError | LinkageError e) {
            throw new PluginException("cannot load plugins from " + origin + ": " + reason(e));
        }
        return added;
    }

    /** What went wrong, down to the root cause: "Provider x could not be instantiated: ... NoClassDefFoundError". */
    private static String reason(Throwable e) {
        StringBuilder reason = new StringBuilder(String.valueOf(e.getMessage()));
        for (Throwable cause = e.getCause(); cause != null; cause = cause.getCause()) {
            reason.append(": ").append(cause);
        }
        return reason.toString();
    }

    public Map<String, Discovered<MiddlewareProvider>> middlewares() {
        return middlewares;
    }

    public Map<String, Discovered<BackendProvider>> backends() {
        return backends;
    }

    /** Sub-commands that plugins add to the command line, by name. */
    public Map<String, Discovered<CommandProvider>> commands() {
        return commands;
    }

    /** Backend filter types, by type. */
    public Map<String, Discovered<BackendFilterProvider>> filters() {
        return filters;
    }

    /** Fronts that open listeners of their own, by type. */
    public Map<String, Discovered<FrontProvider>> fronts() {
        return fronts;
    }

    /** Plugins that add endpoints to the admin listener, by type. */
    public Map<String, Discovered<AdminEndpointProvider>> adminEndpoints() {
        return adminEndpoints;
    }

    /** Load-balancing policies of remote backends, by type. */
    public Map<String, Discovered<BalancerProvider>> balancers() {
        return balancers;
    }

    public Map<String, Discovered<CodecProvider>> codecProviders() {
        return codecProviders;
    }

    /** Every codec of every {@link CodecProvider}, by dialect and media type. */
    public Codecs codecs() {
        return codecs;
    }

    /**
     * Every provider: middlewares, backends, filters, commands, codecs, fronts, admin endpoints, then balancers, each
     * kind sorted by type.
     */
    public List<Discovered<? extends PluginProvider>> all() {
        List<Discovered<? extends PluginProvider>> all = new ArrayList<>(middlewares.values());
        all.addAll(backends.values());
        all.addAll(filters.values());
        all.addAll(commands.values());
        all.addAll(codecProviders.values());
        all.addAll(fronts.values());
        all.addAll(adminEndpoints.values());
        all.addAll(balancers.values());
        return all;
    }

    @Override
    public void close() throws IOException {
        for (JarLoader loader : jarLoaders) {
            loader.close();
        }
    }

    /** A plugin could not be discovered or loaded. */
    public static final class PluginException extends RuntimeException {
        public PluginException(String message) {
            super(message);
        }
    }
}
