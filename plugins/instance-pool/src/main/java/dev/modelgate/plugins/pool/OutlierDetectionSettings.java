package dev.modelgate.plugins.pool;

import java.time.Duration;

/**
 * Passive ejection of failing instances, as Envoy's consecutive-5xx outlier detection.
 *
 * @param consecutiveFailures failed calls in a row (connect failure, timeout, broken connection, 5xx) that eject an
 *     instance
 * @param baseEjectionTime how long the first ejection lasts; the n-th lasts n times as long
 * @param maxEjectionTime the longest one ejection lasts
 * @param maxEjectionPercent the largest share of the backend's instances ejected at once; at least one instance
 *     may always be ejected, as in Envoy
 */
record OutlierDetectionSettings(int consecutiveFailures, Duration baseEjectionTime, Duration maxEjectionTime,
        int maxEjectionPercent) {
}
