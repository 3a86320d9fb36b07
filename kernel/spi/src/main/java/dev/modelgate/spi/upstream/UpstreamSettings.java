package dev.modelgate.spi.upstream;

import java.time.Duration;

/**
 * How a pool connects and keeps its connections.
 *
 * @param maxConnections the most connections open to the server at once, across every IO thread; a call beyond them
 *     waits for one to be free
 * @param connectTimeout how long connecting may take
 * @param poolTimeout how long a call waits for a free connection when all are in use
 * @param idleTimeout how long an unused connection is kept
 * @param maxConnectionLifetime how long any connection is used before it is replaced, so DNS changes take effect
 */
public record UpstreamSettings(int maxConnections, Duration connectTimeout, Duration poolTimeout,
        Duration idleTimeout, Duration maxConnectionLifetime) {
}
