package dev.modelgate.kernel;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The parsed command line: {@code [serve|validate [FILE]|plugins|version|error-codes|config-reference|help
 * |PLUGIN-COMMAND ...] [--config FILE] [--port N] [--admin-port N] [--grpc-port N] [--plugins DIR] [--watch]}.
 *
 * @param command the sub-command, {@code serve} by default
 * @param configFile the configuration file, or {@code null} for {@code ./conf/gateway.yaml} or else the embedded one
 * @param port the API port overriding the configuration's, or {@code null}
 * @param adminPort the admin port overriding the configuration's, or {@code null}
 * @param grpcPort the gRPC port overriding the configuration's ({@code 0} turns the gRPC front off), or {@code null}
 * @param pluginsDir the folder of plugin jars
 * @param pluginsDirGiven whether the folder was asked for ({@code --plugins}): then it must exist
 * @param watch whether {@code serve} reloads when the configuration file or the plugins folder changes
 * @param commandArgs for a command a plugin adds, its arguments (the kernel's {@code --config} and {@code --plugins}
 *     taken out); empty otherwise
 */
public record CommandLine(String command, Path configFile, Integer port, Integer adminPort, Integer grpcPort,
        Path pluginsDir, boolean pluginsDirGiven, boolean watch, List<String> commandArgs) {

    static final Set<String> COMMANDS = Set.of("serve", "validate", "plugins", "version", "error-codes",
            "config-reference", "help");
    static final Path DEFAULT_CONFIG = Path.of("conf", "gateway.yaml");

    public CommandLine {
        commandArgs = List.copyOf(commandArgs);
    }

    /**
     * A command line for embedding and tests: serve {@code configFile} on the given ports (0 picks free ones), the
     * gRPC front off, with the plugin jars of {@code pluginsDir}, which must then exist ({@code null} for none).
     */
    public static CommandLine serving(Path configFile, Integer port, Integer adminPort, Path pluginsDir) {
        return serving(configFile, port, adminPort, 0, pluginsDir);
    }

    /**
     * As {@link #serving(Path, Integer, Integer, Path)}, with the gRPC front on {@code grpcPort}: 0 turns it off,
     * {@link dev.modelgate.spi.front.FrontContext#ANY_FREE_PORT} picks a free port.
     */
    public static CommandLine serving(Path configFile, Integer port, Integer adminPort, Integer grpcPort,
            Path pluginsDir) {
        return new CommandLine("serve", configFile, port, adminPort, grpcPort, pluginsDir, pluginsDir != null,
                false, List.of());
    }

    /** This command line, reloading on changes of the configuration file and the plugins folder. */
    public CommandLine watching() {
        return new CommandLine(command, configFile, port, adminPort, grpcPort, pluginsDir, pluginsDirGiven, true,
                commandArgs);
    }

    /** The built-in plugins and those of the plugins folder. */
    PluginRegistry discoverPlugins() {
        return PluginRegistry.discover(pluginsDir, pluginsDirGiven);
    }

    /** Whether the command is one a plugin adds (checked against the discovered plugins later). */
    boolean isPluginCommand() {
        return !COMMANDS.contains(command);
    }

    /**
     * Parses {@code args}. Arguments after a command the kernel does not know go to that command, but for
     * {@code --config} and {@code --plugins}, which the kernel needs to find it.
     *
     * @throws IllegalArgumentException with a message for the user on a bad command line
     */
    public static CommandLine parse(String... args) {
        String command = null;
        Path config = null;
        Integer port = null;
        Integer adminPort = null;
        Integer grpcPort = null;
        Path plugins = Path.of("plugins");
        boolean pluginsGiven = false;
        boolean watch = false;
        List<String> positional = new ArrayList<>();
        List<String> passed = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            boolean pluginCommand = command != null && !COMMANDS.contains(command);
            switch (arg) {
                case "--help", "-h" -> command = "help";
                case "--config" -> config = Path.of(value(args, ++i, arg));
                case "--plugins" -> {
                    plugins = Path.of(value(args, ++i, arg));
                    pluginsGiven = true;
                }
                case "--watch" -> {
                    if (pluginCommand) {
                        passed.add(arg);
                    } else {
                        watch = true;
                    }
                }
                case "--port" -> {
                    if (pluginCommand) {
                        passed.add(arg);
                    } else {
                        port = portValue(args, ++i, arg);
                    }
                }
                case "--admin-port" -> {
                    if (pluginCommand) {
                        passed.add(arg);
                    } else {
                        adminPort = portValue(args, ++i, arg);
                    }
                }
                case "--grpc-port" -> {
                    if (pluginCommand) {
                        passed.add(arg);
                    } else {
                        grpcPort = portValue(args, ++i, arg);
                    }
                }
                default -> {
                    if (pluginCommand) {
                        passed.add(arg);
                    } else if (arg.startsWith("--")) {
                        throw new IllegalArgumentException("unknown option " + arg);
                    } else if (command == null) {
                        command = arg;
                    } else {
                        positional.add(arg);
                    }
                }
            }
        }
        command = command == null ? "serve" : command;
        if (command.equals("help")) {
            // Asking for help is never a mistake: whatever else the line holds, it gets the usage.
            return new CommandLine(command, config, port, adminPort, grpcPort, plugins, pluginsGiven, watch,
                    List.of());
        }
        if (command.equals("validate") && !positional.isEmpty()) {
            if (config != null) {
                throw new IllegalArgumentException("give the file to validate once: as argument or with --config");
            }
            config = Path.of(positional.removeFirst());
        }
        if (!positional.isEmpty()) {
            throw new IllegalArgumentException("unexpected argument '" + positional.getFirst() + "'");
        }
        return new CommandLine(command, config, port, adminPort, grpcPort, plugins, pluginsGiven, watch, passed);
    }

    private static String value(String[] args, int index, String option) {
        if (index >= args.length) {
            throw new IllegalArgumentException(option + " needs a value");
        }
        return args[index];
    }

    private static int portValue(String[] args, int index, String option) {
        String text = value(args, index, option);
        try {
            int port = Integer.parseInt(text);
            if (port >= 0 && port <= 65535) {
                return port;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException(option + " must be a port number from 0 to 65535, but was '" + text + "'");
    }

    /** The file to read: the one given, else {@code ./conf/gateway.yaml} when present, else {@code null}. */
    public Path effectiveConfigFile() {
        if (configFile != null) {
            return configFile;
        }
        return Files.isRegularFile(DEFAULT_CONFIG) ? DEFAULT_CONFIG : null;
    }

    static String usage() {
        return """
                usage: java -jar gateway.jar [command] [options]
                commands:
                  serve              serve the API (default)
                  validate [FILE]    check a configuration; exit 0 when valid
                  plugins            list discovered plugin types and where each came from
                  version            print the version
                  error-codes        print the error code catalogue as Markdown
                  config-reference   print every configuration key, its type, default and meaning, as Markdown
                  help               print this (also --help, -h)
                  (and the commands plugins add: see `plugins`)
                options:
                  --config FILE      configuration (default ./conf/gateway.yaml, else the embedded default)
                  --port N           API port (default 8080)
                  --admin-port N     admin port on 127.0.0.1 (default 9090)
                  --grpc-port N      gRPC port (default 8081; 0 turns gRPC off)
                  --plugins DIR      folder of plugin jars (default ./plugins)
                  --watch            reload when the configuration file or the plugins folder changes
                """;
    }
}
