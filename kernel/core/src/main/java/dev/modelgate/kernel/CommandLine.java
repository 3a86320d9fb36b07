package dev.modelgate.kernel;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The parsed command line: {@code [serve|validate [FILE]|plugins|version|error-codes|config-reference
 * |PLUGIN-COMMAND ...] [--config FILE] [--port N] [--admin-port N] [--plugins DIR]}.
 *
 * @param command the sub-command, {@code serve} by default
 * @param configFile the configuration file, or {@code null} for {@code ./conf/gateway.yaml} or else the embedded one
 * @param port the API port overriding the configuration's, or {@code null}
 * @param adminPort the admin port overriding the configuration's, or {@code null}
 * @param pluginsDir the folder of plugin jars
 * @param commandArgs for a command a plugin adds, its arguments (the kernel's {@code --config} and {@code --plugins}
 *     taken out); empty otherwise
 */
public record CommandLine(String command, Path configFile, Integer port, Integer adminPort, Path pluginsDir,
        List<String> commandArgs) {

    static final Set<String> COMMANDS = Set.of("serve", "validate", "plugins", "version", "error-codes",
            "config-reference");
    static final Path DEFAULT_CONFIG = Path.of("conf", "gateway.yaml");

    public CommandLine {
        commandArgs = List.copyOf(commandArgs);
    }

    /** A command line for embedding and tests: serve {@code configFile} on the given ports (0 picks free ones). */
    public static CommandLine serving(Path configFile, Integer port, Integer adminPort, Path pluginsDir) {
        return new CommandLine("serve", configFile, port, adminPort, pluginsDir, List.of());
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
        Path plugins = Path.of("plugins");
        List<String> positional = new ArrayList<>();
        List<String> passed = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            boolean pluginCommand = command != null && !COMMANDS.contains(command);
            switch (arg) {
                case "--config" -> config = Path.of(value(args, ++i, arg));
                case "--plugins" -> plugins = Path.of(value(args, ++i, arg));
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
        if (command.equals("validate") && !positional.isEmpty()) {
            if (config != null) {
                throw new IllegalArgumentException("give the file to validate once: as argument or with --config");
            }
            config = Path.of(positional.removeFirst());
        }
        if (!positional.isEmpty()) {
            throw new IllegalArgumentException("unexpected argument '" + positional.getFirst() + "'");
        }
        return new CommandLine(command, config, port, adminPort, plugins, passed);
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
                  (and the commands plugins add: see `plugins`)
                options:
                  --config FILE      configuration (default ./conf/gateway.yaml, else the embedded default)
                  --port N           API port (default 8080)
                  --admin-port N     admin port on 127.0.0.1 (default 9090)
                  --plugins DIR      folder of plugin jars (default ./plugins)
                """;
    }
}
