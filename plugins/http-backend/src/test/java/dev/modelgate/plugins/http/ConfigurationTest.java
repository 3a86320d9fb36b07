package dev.modelgate.plugins.http;

import static dev.modelgate.plugins.http.Gateways.assertProblem;
import static dev.modelgate.plugins.http.Gateways.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Each bad value of the balancing settings is reported once, by its exact key. */
class ConfigurationTest {

    private static final String TWO = "instances: [{url: 'http://127.0.0.1:1/p', name: a}, "
            + "{url: 'http://127.0.0.1:2/p', name: b}]\n";

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "url: 'http://127.0.0.1:3/p'                | backends.remote.url: give either url or instances, not both",
        "balancer: random                           | backends.remote.balancer: must be one of round-robin",
        "hash-key: subject                          | backends.remote.hash-key: only the consistent-hash balancer",
        "balancer: consistent-hash                  | backends.remote.hash-key: is required",
        "balancer: consistent-hash; hash-key: ip    | backends.remote.hash-key: must be header:NAME, claim:NAME",
        "rules: [{header: X-Canary, equals: always, instances: [nope]}] "
                + "| backends.remote.rules[0].instances: unknown instance 'nope'; known instances: a, b",
        "rules: [{header: X-A, claim: region, equals: eu, instances: [a]}] "
                + "| backends.remote.rules[0]: a rule matches on a request header or on a claim",
        "rules: [{claim: region, instances: [a]}]   | backends.remote.rules[0].equals: is required",
        "rules: [{claim: region, equals: eu}]       | backends.remote.rules[0].instances: must name at least one",
        "default-instances: [c]                     | backends.remote.default-instances: unknown instance 'c'",
        "health-check: {interval: 5s}               | backends.remote.health-check.path: is required",
        "health-check: {path: healthz}              | backends.remote.health-check.path: must start with '/'",
        "health-check: {path: /h, unhealthy-threshold: 0} "
                + "| backends.remote.health-check.unhealthy-threshold: must be between 1 and 100",
        "outlier-detection: {max-ejection-percent: 0} "
                + "| backends.remote.outlier-detection.max-ejection-percent: must be between 1 and 100",
        "outlier-detection: {base-ejection-time: 10m, max-ejection-time: 1m} "
                + "| backends.remote.outlier-detection.max-ejection-time: must not be shorter than base",
        "outlier-detection: {consecutive-errors: 3} | backends.remote.outlier-detection.consecutive-errors: unknown key",
        "retry: {attempts: 2}                       | backends.remote.retry: unknown key",
        "forward-headers: [X-Request-Timeout]       | backends.remote.forward-headers: 'X-Request-Timeout' cannot be",
    })
    void reportsABadBalancingSettingByKey(String settings, String problem) {
        assertProblem(config(TWO + lines(settings), ""), problem);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "instances: []                                          | backends.remote.instances: must list at least one",
        "instances: [{url: 'http://a:1/p'}, {url: 'http://a:1/q'}] "
                + "| backends.remote.instances[1].url: 'a:1' already names backends.remote.instances[0]",
        "instances: [{url: 'http://a:1/p', name: x}, {url: 'http://b:1/p', name: x}] "
                + "| backends.remote.instances[1].name: 'x' already names",
        "instances: [{url: 'http://a:1/p', name: 'a b'}]        | backends.remote.instances[0].name: must be 1 to 128",
        "instances: [{url: 'ftp://a/p'}]                       | backends.remote.instances[0].url: must be an absolute",
        "instances: [{name: a}]                                 | backends.remote.instances[0].url: is required",
        "instances: [{url: 'http://a:1/p', weight: 5}]          | backends.remote.instances[0].weight: only the weighted",
        "balancer: weighted; instances: [{url: 'http://a:1/p', weight: 0}] "
                + "| backends.remote.instances[0].weight: must be between 1 and 10000",
    })
    void reportsABadInstanceByKey(String settings, String problem) {
        assertProblem(config(lines(settings), ""), problem);
    }

    @Test
    void aRouteTimeoutMustOutlastTheBackendsCallTimeout() {
        assertProblem(config(TWO + "connect-timeout: 1s\nrequest-timeout: 5s\n", "timeout: 6s\n"),
                "routes[0].timeout: must be longer than backend 'remote''s call timeout of 6000ms");
    }

    /** Settings written {@code a: 1; b: 2} in a table, one per line. */
    private static String lines(String settings) {
        return settings.replace("; ", "\n") + "\n";
    }
}
