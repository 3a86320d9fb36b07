package dev.modelgate.plugins.pool;

import dev.modelgate.spi.ConfigNode;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * The validated configuration of a remote backend's instances, read alike for every backend that has them:
 * {@code url}, or {@code instances} (a list of {@code url}, optional {@code name} (default {@code host:port}) and
 * {@code weight} (1)); {@code balancer} ({@code round-robin}, {@code weighted}, {@code least-outstanding} or
 * {@code consistent-hash} with {@code hash-key}); {@code rules}; {@code default-instances}; {@code health-check}
 * ({@code path} when the backend probes a path, {@code interval} 10s, {@code timeout} 1s, {@code healthy-threshold}
 * 2, {@code unhealthy-threshold} 3); {@code outlier-detection} ({@code consecutive-failures} 5,
 * {@code base-ejection-time} 30s, {@code max-ejection-time} 5m, {@code max-ejection-percent} 10).
 *
 * @param instances where calls may go, in configuration order; empty only when the configured ones were reported
 *     invalid
 * @param balancer how an instance is chosen among the available ones
 * @param hashKey what {@link Balancer.Policy#CONSISTENT_HASH} hashes; {@code null} under the other policies
 * @param rules routing rules, tried in order
 * @param defaultInstances where requests that match no rule go
 * @param healthCheck active health checking; {@code null} when off
 * @param outlierDetection passive ejection; {@code null} when off
 */
public record PoolSettings(
        List<Instance> instances,
        Balancer.Policy balancer,
        HashKey hashKey,
        List<RoutingRule> rules,
        List<Instance> defaultInstances,
        HealthCheckSettings healthCheck,
        OutlierDetectionSettings outlierDetection) {

    /** Instance names appear in rules, logs and metric labels: host names, IPv6 literals and ports fit. */
    private static final Pattern INSTANCE_NAME = Pattern.compile("[A-Za-z0-9._:\\[\\]-]{1,128}");

    private static final int MAX_WEIGHT = 10_000;

    private static final Duration DEFAULT_MAX_EJECTION = Duration.ofMinutes(5);

    /**
     * Reads and validates the instance keys of {@code config}, reporting each bad value by key and using its default
     * instead.
     *
     * @param schemes the URL schemes an instance may have, in lower case
     * @param probesPath whether health checks probe a {@code path} (HTTP), rather than a call the protocol fixes
     */
    public static PoolSettings from(ConfigNode config, Set<String> schemes, boolean probesPath) {
        Balancer.Policy balancer = balancer(config);
        List<Instance> instances = instances(config, balancer, schemes);
        Map<String, Instance> byName = new LinkedHashMap<>();
        instances.forEach(instance -> byName.put(instance.name(), instance));
        HashKey hashKey = hashKey(config, balancer);
        List<RoutingRule> rules = rules(config, byName);
        List<Instance> defaultInstances = config.has("default-instances")
                ? named(config, "default-instances", byName)
                : instances;
        HealthCheckSettings healthCheck = config.has("health-check")
                ? healthCheck(config.child("health-check"), probesPath)
                : null;
        OutlierDetectionSettings outlierDetection = config.has("outlier-detection")
                ? outlierDetection(config.child("outlier-detection"))
                : null;
        return new PoolSettings(List.copyOf(instances), balancer, hashKey, List.copyOf(rules),
                List.copyOf(defaultInstances), healthCheck, outlierDetection);
    }

    private static Balancer.Policy balancer(ConfigNode config) {
        String text = config.string("balancer", Balancer.Policy.ROUND_ROBIN.configName());
        for (Balancer.Policy policy : Balancer.Policy.values()) {
            if (policy.configName().equals(text)) {
                return policy;
            }
        }
        config.problem("balancer", "must be one of round-robin, weighted, least-outstanding, consistent-hash, but was '"
                + text + "'");
        return Balancer.Policy.ROUND_ROBIN;
    }

    /** The single {@code url}, or the {@code instances} list: one of the two, never both. */
    private static List<Instance> instances(ConfigNode config, Balancer.Policy balancer,
            Set<String> schemes) {
        if (!config.has("instances")) {
            URI url = url(config, "url", schemes);
            return url == null ? List.of() : List.of(new Instance(0, Instance.defaultName(url), url, 1));
        }
        if (config.string("url", null) != null) {
            config.problem("url", "give either url or instances, not both");
        }
        List<ConfigNode> nodes = config.list("instances");
        if (nodes.isEmpty()) {
            config.problem("instances", "must list at least one instance");
        }
        List<Instance> instances = new ArrayList<>();
        Map<String, String> pathsByName = new LinkedHashMap<>();
        for (ConfigNode node : nodes) {
            URI url = url(node, "url", schemes);
            boolean named = node.has("name");
            String name = node.string("name", url == null ? "" : Instance.defaultName(url)).strip();
            int weight = node.integer("weight", 1, 1, MAX_WEIGHT);
            if (node.has("weight") && balancer != Balancer.Policy.WEIGHTED) {
                node.problem("weight", "only the weighted balancer reads weights; set balancer: weighted");
            }
            if (named && !INSTANCE_NAME.matcher(name).matches()) {
                node.problem("name", "must be 1 to 128 letters, digits, '.', '_', ':', '[', ']' and '-', but was '"
                        + name + "'");
                continue;
            }
            String earlier = pathsByName.putIfAbsent(name, node.path());
            if (earlier != null) {
                node.problem(named ? "name" : "url", "'" + name + "' already names " + earlier
                        + "; give each instance its own name");
            } else if (url != null) {
                instances.add(new Instance(instances.size(), name, url, weight));
            }
        }
        return instances;
    }

    private static URI url(ConfigNode config, String key, Set<String> schemes) {
        String text = config.string(key);
        if (text.isEmpty()) {
            return null;
        }
        try {
            URI url = new URI(text);
            String scheme = url.getScheme();
            if (scheme != null && schemes.contains(scheme.toLowerCase(Locale.ROOT)) && url.getHost() != null) {
                return url;
            }
        } catch (URISyntaxException e) {
            // Reported below, with the message every malformed value gets.
        }
        config.problem(key, "must be an absolute " + String.join(" or ", new TreeSet<>(schemes))
                + " URL, but was '" + text + "'");
        return null;
    }

    private static HashKey hashKey(ConfigNode config, Balancer.Policy balancer) {
        if (balancer != Balancer.Policy.CONSISTENT_HASH) {
            if (config.string("hash-key", null) != null) {
                config.problem("hash-key", "only the consistent-hash balancer reads a hash key; "
                        + "set balancer: consistent-hash");
            }
            return null;
        }
        String text = config.string("hash-key");
        if (text.isEmpty()) {
            return null;
        }
        HashKey key = HashKey.parse(text);
        if (key == null) {
            config.problem("hash-key", "must be " + HashKey.FORMAT + ", but was '" + text + "'");
        }
        return key;
    }

    private static List<RoutingRule> rules(ConfigNode config, Map<String, Instance> byName) {
        List<RoutingRule> rules = new ArrayList<>();
        for (ConfigNode node : config.list("rules")) {
            String header = node.string("header", null);
            String claim = node.string("claim", null);
            List<String> values = node.strings("equals");
            if (!node.has("equals") || values.isEmpty()) {
                node.problem("equals", "is required: the value, or list of values, that matches");
            }
            List<Instance> instances = named(node, "instances", byName);
            if ((header == null) == (claim == null)) {
                node.problem("a rule matches on a request header or on a claim of the principal: give exactly one "
                        + "of header, claim");
            } else if ((header != null ? header : claim).isBlank()) {
                node.problem(header != null ? "header" : "claim", "must not be blank");
            } else if (!values.isEmpty() && !instances.isEmpty()) {
                rules.add(new RoutingRule(header, claim, values, instances));
            }
        }
        return rules;
    }

    /** The instances named in list {@code key}, which must name at least one and only configured ones. */
    private static List<Instance> named(ConfigNode config, String key, Map<String, Instance> byName) {
        List<String> names = config.strings(key);
        if (names.isEmpty()) {
            config.problem(key, "must name at least one instance");
        }
        List<Instance> instances = new ArrayList<>();
        for (String name : names) {
            Instance instance = byName.get(name);
            if (instance == null) {
                config.problem(key, "unknown instance '" + name + "'; known instances: "
                        + String.join(", ", byName.keySet()));
            } else if (!instances.contains(instance)) {
                instances.add(instance);
            }
        }
        return instances;
    }

    private static HealthCheckSettings healthCheck(ConfigNode node, boolean probesPath) {
        String path = probesPath ? node.string("path") : null;
        if (path != null && !path.isEmpty() && !path.startsWith("/")) {
            node.problem("path", "must start with '/', but was '" + path + "'");
        }
        Duration interval = node.duration("interval", Duration.ofSeconds(10));
        Duration timeout = node.duration("timeout", Duration.ofSeconds(1));
        int healthyThreshold = node.integer("healthy-threshold", 2, 1, 100);
        int unhealthyThreshold = node.integer("unhealthy-threshold", 3, 1, 100);
        return new HealthCheckSettings(path, interval, timeout, healthyThreshold, unhealthyThreshold);
    }

    private static OutlierDetectionSettings outlierDetection(ConfigNode node) {
        int consecutiveFailures = node.integer("consecutive-failures", 5, 1, 1000);
        Duration base = node.duration("base-ejection-time", Duration.ofSeconds(30));
        // Envoy's default cap, unless the base alone is longer.
        Duration max = node.duration("max-ejection-time", base.compareTo(DEFAULT_MAX_EJECTION) > 0 ? base
                : DEFAULT_MAX_EJECTION);
        if (max.compareTo(base) < 0) {
            node.problem("max-ejection-time", "must not be shorter than base-ejection-time (" + base.toMillis()
                    + "ms), but was " + max.toMillis() + "ms");
        }
        int maxEjectionPercent = node.integer("max-ejection-percent", 10, 1, 100);
        return new OutlierDetectionSettings(consecutiveFailures, base, max, maxEjectionPercent);
    }
}
