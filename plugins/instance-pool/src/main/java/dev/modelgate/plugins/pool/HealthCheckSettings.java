package dev.modelgate.plugins.pool;

import java.time.Duration;

/**
 * Active health checking of every instance, as Envoy's health checks: a probe of each instance every
 * {@code interval}, which passes when the instance says it is healthy within {@code timeout}.
 *
 * @param path the probe's path on each instance's host and port, starting with {@code /}, for a backend whose probe
 *     is an HTTP request; {@code null} for one whose probe is fixed by its protocol
 * @param interval the pause between the end of one round of probes and the start of the next
 * @param timeout how long one probe waits for its answer
 * @param healthyThreshold consecutive passes that bring an unhealthy instance back
 * @param unhealthyThreshold consecutive failures that take a healthy instance out
 */
public record HealthCheckSettings(String path, Duration interval, Duration timeout, int healthyThreshold,
        int unhealthyThreshold) {
}
