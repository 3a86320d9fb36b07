package dev.modelgate.kernel;

import dev.modelgate.spi.CommandProvider;
import dev.modelgate.spi.ConfigNode;
import dev.modelgate.spi.PluginProvider;
import java.io.PrintStream;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import sun.misc.Signal;

/**
 * The command line: {@code serve} (default), {@code validate}, {@code plugins}, {@code version},
 * {@code error-codes}, {@code config-reference}. Exit codes: 0 success, 1 invalid configuration or failed start, 2 bad command line.
 */
public final class Main {

    private Main() {
    }

    public static void main(String[] args) {
        configureLogging();
        System.exit(run(args, System.out, System.err));
    }

    /** Runs a command to completion (for {@code serve}: until SIGTERM or SIGINT) and returns the exit code. */
    static int run(String[] args, PrintStream out, PrintStream err) {
        CommandLine commandLine;
        try {
            commandLine = CommandLine.parse(args);
        } catch (IllegalArgumentException e) {
            err.println("modelgate: " + e.getMessage());
            err.print(CommandLine.usage());
            return 2;
        }
        if (!commandLine.command().equals("serve")) {
            // One-shot commands print their answer only; plugins' start-up chatter would bury it.
            java.util.logging.Logger.getLogger("").setLevel(java.util.logging.Level.WARNING);
        }
        try {
            return switch (commandLine.command()) {
                case "version" -> {
                    out.println("modelgate " + version());
                    yield 0;
                }
                case "help" -> {
                    out.print(CommandLine.usage());
                    yield 0;
                }
                case "plugins" -> listPlugins(commandLine, out);
                case "error-codes" -> errorCodes(commandLine, out);
                case "config-reference" -> configReference(commandLine, out);
                case "validate" -> validate(commandLine, out, err);
                case "serve" -> serve(commandLine, err);
                default -> pluginCommand(commandLine, out, err);
            };
        } catch (Deployment.InvalidConfigException e) {
            err.println(e.getMessage());
            return 1;
        } catch (java.nio.file.NoSuchFileException e) {
            err.println("modelgate: no such file: " + e.getMessage());
            return 1;
        } catch (Exception e) {
            err.println("modelgate: " + e.getMessage());
            return 1;
        }
    }

    static String version() {
        String version = Main.class.getPackage().getImplementationVersion();
        return version == null ? "development build" : version;
    }

    private static int listPlugins(CommandLine commandLine, PrintStream out) throws Exception {
        try (PluginRegistry plugins = commandLine.discoverPlugins()) {
            plugins.middlewares().forEach((type, found) -> out.println(line("middleware", found)));
            plugins.backends().forEach((type, found) -> out.println(line("backend", found)));
            plugins.filters().forEach((type, found) -> out.println(line("filter", found)));
            plugins.commands().forEach((type, found) -> out.println(line("command", found)));
            plugins.codecProviders().forEach((type, found) -> out.println(line("codec", found)));
            plugins.fronts().forEach((type, found) -> out.println(line("front", found)));
            plugins.adminEndpoints().forEach((type, found) -> out.println(line("admin", found)));
            plugins.balancers().forEach((type, found) -> out.println(line("balancer", found)));
        }
        return 0;
    }

    private static String line(String kind, PluginRegistry.Discovered<? extends PluginProvider> found) {
        return String.format("%-11s %-18s %s", kind, found.provider().type(), found.origin());
    }

    private static int errorCodes(CommandLine commandLine, PrintStream out) throws Exception {
        try (PluginRegistry plugins = commandLine.discoverPlugins()) {
            out.print(ErrorCatalog.of(plugins).toMarkdown());
        }
        return 0;
    }

    private static int configReference(CommandLine commandLine, PrintStream out) throws Exception {
        try (PluginRegistry plugins = PluginRegistry.discover(commandLine.pluginsDir())) {
            out.print(ConfigReference.markdown(plugins));
        }
        return 0;
    }

    private static int validate(CommandLine commandLine, PrintStream out, PrintStream err) throws Exception {
        ConfigSource source = ConfigSource.load(commandLine.effectiveConfigFile(), System.getenv());
        try (PluginRegistry plugins = commandLine.discoverPlugins()) {
            ErrorCatalog.of(plugins);
            try (Deployment deployment = Deployment.build(source, plugins, new MetricsRegistry(), commandLine,
                    Clock.systemUTC())) {
                out.println(source.origin() + ": valid (" + deployment.routes().size() + " models, "
                        + deployment.backends().size() + " backends)");
            }
        } catch (Deployment.InvalidConfigException e) {
            e.problems().forEach(err::println);
            return 1;
        }
        return 0;
    }

    /** A command a plugin adds, such as {@code token}, given the loaded configuration. */
    private static int pluginCommand(CommandLine commandLine, PrintStream out, PrintStream err) throws Exception {
        try (PluginRegistry plugins = commandLine.discoverPlugins()) {
            var found = plugins.commands().get(commandLine.command());
            if (found == null) {
                err.println("modelgate: unknown command '" + commandLine.command() + "'; commands: "
                        + String.join(", ", new java.util.TreeSet<>(CommandLine.COMMANDS)) + ", "
                        + String.join(", ", plugins.commands().keySet()));
                err.print(CommandLine.usage());
                return 2;
            }
            ConfigSource source = ConfigSource.load(commandLine.effectiveConfigFile(), System.getenv());
            if (!source.problems().isEmpty()) {
                source.problems().forEach(err::println);
                return 1;
            }
            List<String> ignored = new java.util.ArrayList<>();
            ConfigNode config = ConfigNode.root(source.tree(), ignored);
            return found.provider().run(new PluginInvocation(commandLine.commandArgs(), config, out, err,
                    Clock.systemUTC()));
        }
    }

    private record PluginInvocation(List<String> args, ConfigNode config, PrintStream out, PrintStream err,
            Clock clock) implements CommandProvider.Invocation {
    }

    private static int serve(CommandLine commandLine, PrintStream err) throws Exception {
        Gateway gateway = Gateway.start(commandLine, System.getenv());
        CountDownLatch stop = new CountDownLatch(1);
        // Handling the signals ourselves, not in a shutdown hook, lets the drained gateway exit 0.
        Signal.handle(new Signal("TERM"), signal -> stop.countDown());
        Signal.handle(new Signal("INT"), signal -> stop.countDown());
        // SIGHUP reloads (systemd's ExecReload, kill -HUP); off the signal thread, which must not block.
        Signal.handle(new Signal("HUP"), signal -> Thread.ofVirtual().name("modelgate-reload")
                .start(() -> gateway.reload("SIGHUP")));
        stop.await();
        err.println("modelgate: stopping, draining in-flight requests");
        gateway.shutdown();
        return 0;
    }

    /** One line per record on stderr, unless the operator configured java.util.logging otherwise. */
    private static void configureLogging() {
        if (System.getProperty("java.util.logging.config.file") == null
                && System.getProperty("java.util.logging.SimpleFormatter.format") == null) {
            System.setProperty("java.util.logging.SimpleFormatter.format",
                    "%1$tFT%1$tT.%1$tLZ %4$s %3$s: %5$s%6$s%n");
        }
    }
}
