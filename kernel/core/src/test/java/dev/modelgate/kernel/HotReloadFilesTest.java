package dev.modelgate.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.modelgate.kernel.testing.Await;
import dev.modelgate.kernel.testing.PluginJar;
import dev.modelgate.kernel.testing.RunningGateway;
import dev.modelgate.kernel.testing.SelfSignedCertificate;
import dev.modelgate.spi.MiddlewareProvider;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What a reload reads again besides the configuration: plugin jars, certificates; and {@code --watch}. */
class HotReloadFilesTest {

    /** Middleware {@code versioned}: stamps {@code X-Plugin-Version} with the jar's version; records its close. */
    private static final String VERSIONED_PROVIDER = """
            package com.example.versioned;

            import dev.modelgate.spi.ConfigNode;
            import dev.modelgate.spi.Chain;
            import dev.modelgate.spi.Exchange;
            import dev.modelgate.spi.Middleware;
            import dev.modelgate.spi.MiddlewareProvider;
            import dev.modelgate.spi.PluginContext;
            import dev.modelgate.spi.Response;

            public final class VersionedProvider implements MiddlewareProvider {
                @Override
                public String type() {
                    return "versioned";
                }

                @Override
                public Middleware create(ConfigNode config, PluginContext context) {
                    return new Stamp();
                }

                public static final class Stamp implements Middleware, AutoCloseable {
                    @Override
                    public Response handle(Exchange exchange, Chain chain) {
                        return chain.proceed().withHeader("X-Plugin-Version", "%1$s");
                    }

                    @Override
                    public void close() {
                        System.setProperty("versioned-plugin-closed-%1$s", "yes");
                    }
                }
            }
            """;

    private static final String WITH_PLUGIN = """
            middlewares:
              - type: versioned
            """ + RunningGateway.ECHO_ROUTE;

    @TempDir
    Path folder;

    /** Builds version {@code version} of the plugin and moves it into {@code plugins} as {@code versioned.jar}. */
    private Path dropPlugin(Path plugins, String version) throws Exception {
        Path built = PluginJar.build(folder.resolve("versioned-" + version + ".jar"), MiddlewareProvider.class,
                List.of("com.example.versioned.VersionedProvider"), VERSIONED_PROVIDER.formatted(version));
        // As an operator replaces a jar: a new file moved in, not the loaded one rewritten under its class loader.
        return Files.move(built, plugins.resolve("versioned.jar"), StandardCopyOption.REPLACE_EXISTING);
    }

    private static String pluginVersion(RunningGateway gateway) {
        HttpResponse<String> answer = gateway.post("/v1/models/m:predict", "application/json", "{\"instances\":[[1]]}");
        assertEquals(200, answer.statusCode(), answer.body());
        return answer.headers().firstValue("X-Plugin-Version").orElse("none");
    }

    @Test
    void pluginJarsAddedUpdatedAndRemovedArePickedUpByAReload() throws Exception {
        Path plugins = Files.createDirectory(folder.resolve("plugins"));
        try (RunningGateway gateway = RunningGateway.start(RunningGateway.ECHO_ROUTE, plugins, Map.of())) {
            assertEquals("none", pluginVersion(gateway));

            dropPlugin(plugins, "1");
            Reloader.Outcome added = gateway.reload(WITH_PLUGIN);
            assertTrue(added.applied(), added.problems().toString());
            assertEquals("1", pluginVersion(gateway));

            dropPlugin(plugins, "2");
            Reloader.Outcome updated = gateway.reload(WITH_PLUGIN);
            assertTrue(updated.applied(), updated.problems().toString());
            assertEquals("2", pluginVersion(gateway));
            Await.until("version 1's middleware closed", () -> System.getProperty("versioned-plugin-closed-1") != null);

            Files.delete(plugins.resolve("versioned.jar"));
            Reloader.Outcome stillUsed = gateway.reload(WITH_PLUGIN);
            assertFalse(stillUsed.applied());
            assertTrue(stillUsed.problems().getFirst().startsWith("middlewares[0].type: unknown middleware type "
                    + "'versioned'"), stillUsed.problems().toString());
            assertEquals("2", pluginVersion(gateway), "the refused reload changed nothing");

            Reloader.Outcome removed = gateway.reload(RunningGateway.ECHO_ROUTE);
            assertTrue(removed.applied(), removed.problems().toString());
            assertEquals("none", pluginVersion(gateway));
            Await.until("version 2's middleware closed", () -> System.getProperty("versioned-plugin-closed-2") != null);
        }
    }

    @Test
    void aReloadRereadsTheCertificateSoNewHandshakesUseTheRotatedOne() throws Exception {
        SelfSignedCertificate first = SelfSignedCertificate.create(Files.createDirectory(folder.resolve("first")));
        SelfSignedCertificate second = SelfSignedCertificate.create(Files.createDirectory(folder.resolve("second")));
        Path cert = Files.copy(first.certFile(), folder.resolve("cert.pem"));
        Path key = Files.copy(first.keyFile(), folder.resolve("key.pem"));
        String config = """
                server:
                  address: 127.0.0.1
                  tls:
                    cert-file: %s
                    key-file: %s
                """.formatted(cert, key) + RunningGateway.ECHO_ROUTE;
        try (RunningGateway gateway = RunningGateway.start(config, null, Map.of())) {
            handshake(gateway, first);

            Files.copy(second.certFile(), cert, StandardCopyOption.REPLACE_EXISTING);
            Files.copy(second.keyFile(), key, StandardCopyOption.REPLACE_EXISTING);
            Reloader.Outcome outcome = gateway.reload(config);

            assertTrue(outcome.applied(), outcome.problems().toString());
            assertEquals(List.of(), outcome.restartNeeded());
            handshake(gateway, second);
            assertThrows(SSLHandshakeException.class, () -> handshake(gateway, first));
        }
    }

    /** A TLS handshake with a client that trusts {@code expected} alone. */
    private static void handshake(RunningGateway gateway, SelfSignedCertificate expected) throws Exception {
        try (SSLSocket socket = (SSLSocket) expected.clientContext().getSocketFactory()
                .createSocket("127.0.0.1", gateway.port())) {
            socket.setSoTimeout(10_000);
            socket.startHandshake();
        }
    }

    @Test
    void aCertificateThatDoesNotLoadIsRefusedAndTheOldOneServesOn() throws Exception {
        SelfSignedCertificate certificate = SelfSignedCertificate.create(folder);
        String config = """
                server:
                  address: 127.0.0.1
                  tls:
                    cert-file: %s
                    key-file: %s
                """.formatted(certificate.certFile(), certificate.keyFile()) + RunningGateway.ECHO_ROUTE;
        try (RunningGateway gateway = RunningGateway.start(config, null, Map.of())) {
            Files.writeString(certificate.keyFile(), "not a key");

            Reloader.Outcome outcome = gateway.reload(config);

            assertFalse(outcome.applied());
            assertTrue(outcome.problems().getFirst().startsWith("server.tls.key-file: "), outcome.problems().toString());
            handshake(gateway, certificate);
        }
    }

    @Test
    void withWatchAChangeOfTheConfigurationFileOrThePluginsFolderReloads() throws Exception {
        Path plugins = Files.createDirectory(folder.resolve("plugins"));
        try (RunningGateway gateway = RunningGateway.startWatching(RunningGateway.ECHO_ROUTE, plugins)) {
            Files.writeString(gateway.configFile(), RunningGateway.ECHO_ROUTE.replace("type: echo",
                    "type: echo\n    tag: watched"));
            Await.until("the changed file served", () -> gateway.post("/v1/models/m:predict", "application/json",
                    "{\"instances\":[[1]]}").body().contains("\"tag\":\"watched\""));

            dropPlugin(plugins, "3");
            gateway.awaitMetric("modelgate_reloads_total{result=\"success\"} 2");
            Files.writeString(gateway.configFile(), WITH_PLUGIN);
            Await.until("the dropped-in plugin served", () -> pluginVersion(gateway).equals("3"));
            gateway.assertMetric("modelgate_reloads_total{result=\"failure\"} 0");
        }
    }
}
