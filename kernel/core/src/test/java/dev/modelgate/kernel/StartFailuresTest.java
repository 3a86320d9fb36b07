package dev.modelgate.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.modelgate.kernel.testing.PluginJar;
import dev.modelgate.kernel.testing.RunningGateway;
import dev.modelgate.spi.MiddlewareProvider;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What stops a start, and {@code plugins} and {@code validate}, with a message naming the culprit and the reason: a
 * plugin jar that is not a jar, a provider class that cannot be loaded, a plugins folder asked for that does not exist,
 * a port in use. A loaded jar says so in one log line.
 */
class StartFailuresTest {

    private static final String BROKEN_PROVIDER = """
            package com.example.broken;

            import dev.modelgate.spi.ConfigNode;
            import dev.modelgate.spi.Middleware;
            import dev.modelgate.spi.MiddlewareProvider;
            import dev.modelgate.spi.PluginContext;

            public final class BrokenProvider implements MiddlewareProvider {
                static {
                    if (Boolean.parseBoolean("true")) {
                        throw new IllegalStateException("static setup failed");
                    }
                }

                @Override
                public String type() {
                    return "broken";
                }

                @Override
                public Middleware create(ConfigNode config, PluginContext context) {
                    return (exchange, chain) -> chain.proceed();
                }
            }
            """;

    private static final String GREETING_PROVIDER = """
            package com.example.greeting;

            import dev.modelgate.spi.ConfigNode;
            import dev.modelgate.spi.Middleware;
            import dev.modelgate.spi.MiddlewareProvider;
            import dev.modelgate.spi.PluginContext;

            public final class GreetingProvider implements MiddlewareProvider {
                @Override
                public String type() {
                    return "greeting";
                }

                @Override
                public Middleware create(ConfigNode config, PluginContext context) {
                    return (exchange, chain) -> chain.proceed();
                }
            }
            """;

    @TempDir
    Path folder;

    /** What {@code plugins}, {@code validate} and {@code serve} say on stderr, each of which must exit 1. */
    private List<String> failuresOfEveryCommand(String... options) throws Exception {
        Path config = Files.writeString(folder.resolve("gateway.yaml"), RunningGateway.ECHO_ROUTE);
        List<String> messages = new java.util.ArrayList<>();
        for (List<String> command : List.of(List.of("plugins"), List.of("validate", config.toString()),
                List.of("serve", "--config", config.toString(), "--port", "0", "--admin-port", "0"))) {
            List<String> args = new java.util.ArrayList<>(command);
            args.addAll(List.of(options));
            ByteArrayOutputStream err = new ByteArrayOutputStream();
            int exit = Main.run(args.toArray(String[]::new), new PrintStream(OutputStreamSink.INSTANCE, true),
                    new PrintStream(err, true, StandardCharsets.UTF_8));
            String message = err.toString(StandardCharsets.UTF_8);
            assertEquals(1, exit, command + ": " + message);
            messages.add(message);
        }
        return messages;
    }

    /** Discards what commands print on stdout. */
    private static final class OutputStreamSink extends java.io.OutputStream {
        static final OutputStreamSink INSTANCE = new OutputStreamSink();

        @Override
        public void write(int b) {
        }
    }

    @Test
    void aPluginJarThatIsNotAJarStopsEveryCommandNamingIt() throws Exception {
        Path plugins = Files.createDirectories(folder.resolve("plugins"));
        Files.writeString(plugins.resolve("notes.jar"), "this is not a zip file");

        for (String message : failuresOfEveryCommand("--plugins", plugins.toString())) {
            assertTrue(message.contains("plugin jar " + plugins.resolve("notes.jar") + " cannot be read as a jar: "),
                    message);
        }
    }

    @Test
    void aProviderClassThatIsMissingOrFailsToLoadStopsEveryCommandNamingTheJarAndTheReason() throws Exception {
        Path plugins = Files.createDirectories(folder.resolve("plugins"));
        Path missing = PluginJar.build(plugins.resolve("missing.jar"), MiddlewareProvider.class,
                List.of("com.example.greeting.Missing"), GREETING_PROVIDER);

        for (String message : failuresOfEveryCommand("--plugins", plugins.toString())) {
            assertTrue(message.contains("cannot load plugins from " + missing + ": "), message);
            assertTrue(message.contains("com.example.greeting.Missing not found"), message);
        }

        Files.delete(missing);
        Path broken = PluginJar.build(plugins.resolve("broken.jar"), MiddlewareProvider.class,
                List.of("com.example.broken.BrokenProvider"), BROKEN_PROVIDER);
        for (String message : failuresOfEveryCommand("--plugins", plugins.toString())) {
            assertTrue(message.contains("cannot load plugins from " + broken + ": "), message);
            assertTrue(message.contains("static setup failed"), message);
        }
    }

    @Test
    void aPluginsFolderAskedForThatDoesNotExistStopsEveryCommand() throws Exception {
        Path absent = folder.resolve("no-such-folder");

        for (String message : failuresOfEveryCommand("--plugins", absent.toString())) {
            assertTrue(message.contains("plugins folder " + absent + " does not exist"), message);
        }
    }

    @Test
    void theDefaultPluginsFolderMayBeAbsent() throws Exception {
        try (PluginRegistry plugins = PluginRegistry.discover(folder.resolve("plugins"), false)) {
            assertTrue(plugins.middlewares().isEmpty() || plugins.middlewares().values().stream()
                    .allMatch(found -> found.origin().equals("built in")));
        }
    }

    @Test
    void eachLoadedJarIsLoggedOnceWithWhatItProvides() throws Exception {
        Path plugins = Files.createDirectories(folder.resolve("plugins"));
        Path jar = PluginJar.build(plugins.resolve("greeting.jar"), MiddlewareProvider.class,
                List.of("com.example.greeting.GreetingProvider"), GREETING_PROVIDER);
        List<String> logged = new CopyOnWriteArrayList<>();
        Handler capture = new Handler() {
            @Override
            public void publish(LogRecord logRecord) {
                logged.add(logRecord.getMessage());
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        Logger log = Logger.getLogger(PluginRegistry.class.getName());
        log.setLevel(java.util.logging.Level.INFO); // one-shot commands run earlier in this JVM turn INFO off
        log.addHandler(capture);
        try (PluginRegistry registry = PluginRegistry.discover(plugins, true)) {
            assertEquals(jar.toString(), registry.middlewares().get("greeting").origin());
        } finally {
            log.removeHandler(capture);
            log.setLevel(null);
        }

        assertEquals(List.of("loaded plugin jar " + jar + ": middleware greeting"), logged);
    }

    @Test
    void aPortInUseNamesTheListenerAndThePort() throws Exception {
        Path config = Files.writeString(folder.resolve("gateway.yaml"), "server:\n  address: 127.0.0.1\n"
                + RunningGateway.ECHO_ROUTE);
        try (ServerSocket taken = new ServerSocket()) {
            taken.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            int port = taken.getLocalPort();

            IllegalStateException api = assertThrows(IllegalStateException.class,
                    () -> Gateway.start(CommandLine.serving(config, port, 0, null), Map.of()).close());
            int apiPort = freePort();
            IllegalStateException admin = assertThrows(IllegalStateException.class,
                    () -> Gateway.start(CommandLine.serving(config, apiPort, port, null), Map.of()).close());

            assertTrue(api.getMessage().startsWith("cannot start the API listener on 127.0.0.1:" + port
                    + " (server.port, --port): "), api.getMessage());
            assertTrue(admin.getMessage().startsWith("cannot start the admin listener on 127.0.0.1:" + port
                    + " (server.admin-port, --admin-port): "), admin.getMessage());
        }
    }

    /** A port free a moment ago; the admin failure above can only name the admin listener if its API listener, bound
     * first, was released again. */
    private static int freePort() throws Exception {
        try (ServerSocket probe = new ServerSocket()) {
            probe.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            return probe.getLocalPort();
        }
    }
}
