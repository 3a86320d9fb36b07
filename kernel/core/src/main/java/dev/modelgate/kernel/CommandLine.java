package dev.modelgate.kernel;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The parsed command line: {@code [serve|validate [FILE]|plugins|version|error-codes] [--config FILE] [--port N]
 * [--admin-port N] [--plugins DIR]}.
 *
 * @param command the sub-command, {@code serve} by default
 * @param configFile the configuration file, or {@code null} for {@code ./conf/gateway.yaml} or else the embedded one
 * @param port the API port overriding the configuration's, or {@code null}
 * @param adminPort the admin port overriding the configuration's, or {@code null}
 * @param pluginsDir the folder of plugin jars
 */
public record CommandLine(String command, Path configFile, Integer port, Integer adminPort, Path pluginsDir) {

    static final Set<String> COMMANDS = Set.of("serve", "validate", "plugins", "version", "error-codes");
    static final Path DEFAULT_CONFIG = Path.of("conf", "gateway.yaml");

    /** A command line for embedding and tests: the given file, ports from the configuration. */
    public static CommandLine serving(Path configFile, Path pluginsDir) {
        return new CommandLine("serve", configFile, null, null, pluginsDir);
    }

    /**
     * Parses {@code args}.
     *
     * @throws IllegalArgumentException with a message for the user on a bad command line
     */
    public static CommandLine parse(String... args) {
        String command = "serve";
        Path config = null;
        Integer port = null;
        Integer adminPort = null;
        Path plugins = Path.of("plugins");
        List<String> positional = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            switch (arg) {
                case "--config" -> config = Path.of(value(args, ++i, arg));
                case "--port" -> port = portValue(args, ++i, arg);
                case "--admin-port" -> adminPort = portValue(args, ++i, arg);
                case "--plugins" -> plugins = Path.of(value(args, ++i, arg));
                default -> {
                    if (arg.startsWith("--")) {
                        throw new IllegalArgumentException("unknown option " + arg);
                    }
                    positional.add(arg);
                }
            }
        }
        if (!positional.isEmpty()) {
            command = positional.removeFirst();
            if (!COMMANDS.contains(command)) {
                throw new IllegalArgumentException("unknown command '" + command + "'");
            }
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
        return new CommandLine(command, config, port, adminPort, plugins);
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
                options:
                  --config FILE      configuration (default ./conf/gateway.yaml, else the embedded default)
                  --port N           API port (default 8080)
                  --admin-port N     admin port on 127.0.0.1 (default 9090)
                  --plugins DIR      folder of plugin jars (default ./plugins)
                """;
    }
}
