package dev.modelgate.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.modelgate.kernel.testing.PluginJar;
import dev.modelgate.kernel.testing.RunningGateway;
import dev.modelgate.spi.MiddlewareProvider;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DroppedInPluginTest {

    private static final String GREETING_PROVIDER = """
            package com.example.greeting;

            import dev.modelgate.spi.ConfigNode;
            import dev.modelgate.spi.ErrorCode;
            import dev.modelgate.spi.Middleware;
            import dev.modelgate.spi.MiddlewareProvider;
            import dev.modelgate.spi.PluginContext;
            import java.util.List;

            public final class GreetingProvider implements MiddlewareProvider {
                public static final ErrorCode REFUSED = new ErrorCode(%d, 400, "INVALID_ARGUMENT", "greeting refused");

                @Override
                public String type() {
                    return "%s";
                }

                @Override
                public List<ErrorCode> errorCodes() {
                    return List.of(REFUSED);
                }

                @Override
                public Middleware create(ConfigNode config, PluginContext context) {
                    String text = config.string("text", "hello");
                    return (exchange, chain) -> exchange.requestHeaders().contains("X-Refuse")
                            ? exchange.error(REFUSED, null)
                            : chain.proceed().withHeader("X-Greeting", text);
                }
            }
            """;

    private static final String CONFIG = """
            middlewares:
              - type: greeting
                text: hi from a jar
            backends:
              echo:
                type: echo
            routes:
              - model: m
                backend: echo
            """;

    @TempDir
    Path plugins;

    private Path greetingJar(String name, int errorCode, String type) throws Exception {
        return PluginJar.build(plugins.resolve(name), MiddlewareProvider.class,
                List.of("com.example.greeting.GreetingProvider"), GREETING_PROVIDER.formatted(errorCode, type));
    }

    @Test
    void aJarDroppedIntoThePluginsFolderIsLoadedAndRuns() throws Exception {
        greetingJar("greeting.jar", 29901, "greeting");
        assertThrows(ClassNotFoundException.class, () -> Class.forName("com.example.greeting.GreetingProvider"),
                "the plugin is not on the test class path");

        try (RunningGateway gateway = RunningGateway.start(CONFIG, plugins, Map.of())) {
            HttpResponse<String> greeted = gateway.post("/v1/models/m:predict", "application/json",
                    "{\"instances\":[[1]]}");
            HttpResponse<String> refused = gateway.post("/v1/models/m:predict", "application/json",
                    "{\"instances\":[[1]]}", "X-Refuse", "yes");

            assertEquals(200, greeted.statusCode());
            assertEquals("hi from a jar", greeted.headers().firstValue("X-Greeting").orElseThrow());
            assertEquals(400, refused.statusCode());
            assertTrue(refused.body().contains("\"code\":29901"), refused.body());
        }
    }

    @Test
    void pluginsCommandSaysWhereEachTypeCameFrom() throws Exception {
        Path jar = greetingJar("greeting.jar", 29901, "greeting");
        ByteArrayOutputStream out = new ByteArrayOutputStream();

        int exit = Main.run(new String[] {"plugins", "--plugins", plugins.toString()},
                new PrintStream(out, true, StandardCharsets.UTF_8), System.err);

        String listing = out.toString(StandardCharsets.UTF_8);
        assertEquals(0, exit);
        assertTrue(listing.lines().anyMatch(line -> line.matches("middleware +greeting +" + jar)), listing);
        assertTrue(listing.lines().anyMatch(line -> line.matches("backend +echo +built in")), listing);
    }

    @Test
    void anErrorCodeDeclaredTwiceStopsStartupNamingBoth() throws Exception {
        greetingJar("greeting.jar", 20001, "greeting");

        IllegalStateException failure = assertThrows(IllegalStateException.class,
                () -> RunningGateway.start(CONFIG, plugins, Map.of()).close());

        assertTrue(failure.getMessage().contains("error code 20001 is declared twice: by kernel"),
                failure.getMessage());
        assertTrue(failure.getMessage().contains("plugin 'greeting'"), failure.getMessage());
    }

    @Test
    void twoJarsProvidingTheSameTypeStopStartupNamingBoth() throws Exception {
        greetingJar("a.jar", 29901, "greeting");
        Path other = plugins.resolve("other");
        Files.createDirectories(other);
        PluginJar.build(plugins.resolve("b.jar"), MiddlewareProvider.class,
                List.of("com.example.greeting.GreetingProvider"), GREETING_PROVIDER.formatted(29902, "greeting"));

        var failure = assertThrows(PluginRegistry.PluginException.class,
                () -> RunningGateway.start(CONFIG, plugins, Map.of()).close());

        assertTrue(failure.getMessage().contains("'greeting' is provided twice"), failure.getMessage());
        assertTrue(failure.getMessage().contains("a.jar") && failure.getMessage().contains("b.jar"),
                failure.getMessage());
    }
}
