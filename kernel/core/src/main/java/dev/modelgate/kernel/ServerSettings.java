package dev.modelgate.kernel;

import dev.modelgate.spi.ConfigNode;
import java.time.Duration;

/**
 * The listeners and request limits, from the {@code server} section.
 *
 * @param address the API listener's bind address
 * @param port the API port; 0 picks a free one
 * @param adminAddress the admin listener's bind address, loopback unless configured otherwise
 * @param adminPort the admin port; 0 picks a free one
 * @param maxBodyBytes the largest request body accepted; larger ones are answered 413
 * @param shutdownTimeout how long in-flight requests may run on after SIGTERM
 * @param ioThreads Undertow IO threads; request work runs on virtual threads, not on these
 */
public record ServerSettings(String address, int port, String adminAddress, int adminPort, long maxBodyBytes,
        Duration shutdownTimeout, int ioThreads) {

    static ServerSettings from(ConfigNode server, CommandLine overrides) {
        int port = server.integer("port", 8080, 0, 65535);
        int adminPort = server.integer("admin-port", 9090, 0, 65535);
        return new ServerSettings(
                server.string("address", "0.0.0.0"),
                overrides.port() != null ? overrides.port() : port,
                server.string("admin-address", "127.0.0.1"),
                overrides.adminPort() != null ? overrides.adminPort() : adminPort,
                server.size("max-body-size", 10L << 20),
                server.duration("shutdown-timeout", Duration.ofSeconds(20)),
                server.integer("io-threads", Math.max(2, Runtime.getRuntime().availableProcessors()), 1, 1024));
    }
}
