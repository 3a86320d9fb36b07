package dev.modelgate.plugins.http;

import java.time.Duration;

/**
 * Active health checking of every instance, as Envoy's HTTP health checks: {@code GET path} on each instance every
 * {@code interval}; a 2xx answer within {@code timeout} passes, anything else fails.
 *
 * @param path the probe's path on each instance's host and port, starting with {@code /}
 * @param interval the pause between the end of one round of probes and the start of the next
 * @param timeout how long one probe waits for its answer
 * @param healthyThreshold consecutive passes that bring an unhealthy instance back
 * @param unhealthyThreshold consecutive failures that take a healthy instance out
 */
record HealthCheckSettings(String path, Duration interval, Duration timeout, int healthyThreshold,
        int unhealthyThreshold) {
}
