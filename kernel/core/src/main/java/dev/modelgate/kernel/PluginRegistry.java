package dev.modelgate.kernel;

import dev.modelgate.spi.BackendFilterProvider;
import dev.modelgate.spi.BackendProvider;
import dev.modelgate.spi.CommandProvider;
import dev.modelgate.spi.MiddlewareProvider;
import dev.modelgate.spi.PluginProvider;
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
import java.util.stream.Stream;

/**
 * The plugin providers the gateway knows, found with {@link ServiceLoader}: those in the gateway jar, then those in
 * each jar of the plugins folder, every jar in its own class loader, child of the kernel's.
 *
 * <p>Immutable once built. Two providers of the same kind and type are an error naming both origins.
 */
public final class PluginRegistry implements AutoCloseable {

    /** Where a provider came from, for {@code plugins} listings and error messages. */
    public record Discovered<P extends PluginProvider>(P provider, String origin) {
    }

    private final Map<String, Discovered<MiddlewareProvider>> middlewares;
    private final Map<String, Discovered<BackendProvider>> backends;
    private final Map<String, Discovered<CommandProvider>> commands;
    private final Map<String, Discovered<CodecProvider>> codecProviders;
    private final Map<String, Discovered<BackendFilterProvider>> filters;
    private final Map<String, Discovered<FrontProvider>> fronts;
    private final Codecs codecs;
    private final List<URLClassLoader> jarLoaders;

    private PluginRegistry(Map<String, Discovered<MiddlewareProvider>> middlewares,
            Map<String, Discovered<BackendProvider>> backends, Map<String, Discovered<CommandProvider>> commands,
            Map<String, Discovered<CodecProvider>> codecProviders,
            Map<String, Discovered<BackendFilterProvider>> filters, Map<String, Discovered<FrontProvider>> fronts,
            List<URLClassLoader> jarLoaders) {
        this.fronts = Collections.unmodifiableMap(fronts);
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
        ClassLoader kernelLoader = PluginRegistry.class.getClassLoader();
        Map<String, Discovered<MiddlewareProvider>> middlewares = new TreeMap<>();
        Map<String, Discovered<BackendProvider>> backends = new TreeMap<>();
        Map<String, Discovered<CommandProvider>> commands = new TreeMap<>();
        Map<String, Discovered<CodecProvider>> codecProviders = new TreeMap<>();
        Map<String, Discovered<BackendFilterProvider>> filters = new TreeMap<>();
        Map<String, Discovered<FrontProvider>> fronts = new TreeMap<>();
        List<URLClassLoader> jarLoaders = new ArrayList<>();
        collect(MiddlewareProvider.class, kernelLoader, null, "built in", middlewares);
        collect(BackendProvider.class, kernelLoader, null, "built in", backends);
        collect(CommandProvider.class, kernelLoader, null, "built in", commands);
        collect(CodecProvider.class, kernelLoader, null, "built in", codecProviders);
        collect(BackendFilterProvider.class, kernelLoader, null, "built in", filters);
        collect(FrontProvider.class, kernelLoader, null, "built in", fronts);
        try {
            for (Path jar : jars(pluginsDir)) {
                URLClassLoader loader = new URLClassLoader("plugin:" + jar.getFileName(), new URL[] {url(jar)},
                        kernelLoader);
                jarLoaders.add(loader);
                collect(MiddlewareProvider.class, loader, loader, jar.toString(), middlewares);
                collect(BackendProvider.class, loader, loader, jar.toString(), backends);
                collect(CommandProvider.class, loader, loader, jar.toString(), commands);
                collect(CodecProvider.class, loader, loader, jar.toString(), codecProviders);
                collect(BackendFilterProvider.class, loader, loader, jar.toString(), filters);
                collect(FrontProvider.class, loader, loader, jar.toString(), fronts);
            }
        } catch (PluginException e) {
            // The jars already opened would stay open (and locked, on some systems) for the life of the process.
            jarLoaders.forEach(PluginRegistry::closeQuietly);
            throw e;
        }
        try {
            return new PluginRegistry(middlewares, backends, commands, codecProviders, filters, fronts, jarLoaders);
        } catch (PluginException e) {
            jarLoaders.forEach(PluginRegistry::closeQuietly);
            throw e;
        }
    }

    private static void closeQuietly(URLClassLoader loader) {
        try {
            loader.close();
        } catch (IOException e) {
            // nothing more to do for a jar that will not close
        }
    }

    private static List<Path> jars(Path pluginsDir) {
        if (pluginsDir == null || !Files.isDirectory(pluginsDir)) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(pluginsDir)) {
            return files.filter(file -> file.getFileName().toString().endsWith(".jar") && Files.isRegularFile(file))
                    .sorted()
                    .toList();
        } catch (IOException e) {
            throw new PluginException("cannot list plugins folder " + pluginsDir + ": " + e.getMessage());
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
     * Adds the providers {@code loader} sees. For a plugin jar, {@code owner} is its loader, and providers that the
     * parent (kernel) loader defined are skipped: they were collected as built in.
     */
    private static <P extends PluginProvider> void collect(Class<P> kind, ClassLoader loader, ClassLoader owner,
            String origin, Map<String, Discovered<P>> into) {
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
            }
        } catch (ServiceConfigurationError e) {
            throw new PluginException("cannot load plugins from " + origin + ": " + e.getMessage());
        }
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

    public Map<String, Discovered<CodecProvider>> codecProviders() {
        return codecProviders;
    }

    /** Every codec of every {@link CodecProvider}, by dialect and media type. */
    public Codecs codecs() {
        return codecs;
    }

    /** Every provider: middlewares, backends, filters, commands, codecs, then fronts, each kind sorted by type. */
    public List<Discovered<? extends PluginProvider>> all() {
        List<Discovered<? extends PluginProvider>> all = new ArrayList<>(middlewares.values());
        all.addAll(backends.values());
        all.addAll(filters.values());
        all.addAll(commands.values());
        all.addAll(codecProviders.values());
        all.addAll(fronts.values());
        return all;
    }

    @Override
    public void close() throws IOException {
        for (URLClassLoader loader : jarLoaders) {
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
