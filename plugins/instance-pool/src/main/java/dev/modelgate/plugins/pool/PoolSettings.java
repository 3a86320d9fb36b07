package dev.modelgate.plugins.pool;

import dev.modelgate.spi.ConfigNode;
import dev.modelgate.spi.PluginContext;
import dev.modelgate.spi.balancer.Balancer;
import dev.modelgate.spi.balancer.BalancerContext;
import dev.modelgate.spi.balancer.BalancerProvider;
import dev.modelgate.spi.balancer.Endpoint;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.random.RandomGenerator;
import java.util.regex.Pattern;

/**
 * The validated configuration of a remote backend's instances, read alike for every backend that has them:
 * {@code url}, or {@code instances} (a list of {@code url}, optional {@code name} (default {@code host:port}),
 * {@code weight} (1), {@code locality}, {@code priority} (0 in the gateway's own locality, or when either has none;
 * else 1) and {@code labels}); {@code balancer} (a {@link BalancerProvider}'s type: {@code round-robin},
 * {@code weighted}, {@code least-outstanding}, {@code consistent-hash} with {@code hash-key}, or a plugin's), whose
 * own keys sit next to it; {@code rules}; {@code default-instances}; {@code health-check} ({@code path} when the
 * backend probes a path, {@code interval} 10s, {@code timeout} 1s, {@code healthy-threshold} 2,
 * {@code unhealthy-threshold} 3); {@code outlier-detection} ({@code consecutive-failures} 5,
 * {@code base-ejection-time} 30s, {@code max-ejection-time} 5m, {@code max-ejection-percent} 10).
 *
 * @param instances where calls may go, in configuration order; empty only when the configured ones were reported
 *     invalid
 * @param balancer how an instance is chosen among the candidates, built from its provider
 * @param inFlight by instance index: calls under way, counted by {@link InstanceOutcomes} and read by the balancer
 * @param rules routing rules, tried in order
 * @param defaultInstances where requests that match no rule go
 * @param healthCheck active health checking; {@code null} when off
 * @param outlierDetection passive ejection; {@code null} when off
 */
public record PoolSettings(
        List<Instance> instances,
        Balancer balancer,
        AtomicIntegerArray inFlight,
        List<RoutingRule> rules,
        List<Instance> defaultInstances,
        HealthCheckSettings healthCheck,
        OutlierDetectionSettings outlierDetection) {

    /** Instance names appear in rules, logs and metric labels: host names, IPv6 literals and ports fit. */
    private static final Pattern INSTANCE_NAME = Pattern.compile("[A-Za-z0-9._:\\[\\]-]{1,128}");

    /** Localities are region, zone or cluster names, or paths of them ({@code eu-west-1/eu-west-1a}). */
    private static final Pattern LOCALITY = Pattern.compile("[A-Za-z0-9._:/-]{1,128}");

    private static final int MAX_WEIGHT = 10_000;

    private static final int MAX_PRIORITY = 127;

    private static final Duration DEFAULT_MAX_EJECTION = Duration.ofMinutes(5);

    /**
     * Reads and validates the instance keys of {@code config}, reporting each bad value by key and using its default
     * instead; builds the configured balancer.
     *
     * @param context the backend's: its name, the balancer providers and the gateway's locality
     * @param schemes the URL schemes an instance may have, in lower case
     * @param probesPath whether health checks probe a {@code path} (HTTP), rather than a call the protocol fixes
     */
    public static PoolSettings from(ConfigNode config, PluginContext context, Set<String> schemes,
            boolean probesPath) {
        BalancerProvider provider = balancerProvider(config, context);
        List<Instance> instances = instances(config, provider, schemes, context.locality());
        Map<String, Instance> byName = new LinkedHashMap<>();
        instances.forEach(instance -> byName.put(instance.name(), instance));
        AtomicIntegerArray inFlight = new AtomicIntegerArray(instances.size());
        Balancer balancer = provider.create(config, new Context(InstancePool.backendName(context),
                List.copyOf(instances), inFlight));
        if (!(provider instanceof ConsistentHashProvider) && config.string("hash-key", null) != null) {
            config.problem("hash-key", "only the consistent-hash balancer reads a hash key; "
                    + "set balancer: consistent-hash");
        }
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
        // A provider returns null only after reporting why: the configuration is refused, the default stands in.
        return new PoolSettings(List.copyOf(instances), balancer != null ? balancer : new BuiltInBalancers.RoundRobin(),
                inFlight, List.copyOf(rules), List.copyOf(defaultInstances), healthCheck, outlierDetection);
    }

    /** What a balancer is built with: the backend's instances and their calls in flight. */
    private record Context(String backend, List<Instance> endpoints, AtomicIntegerArray calls)
            implements BalancerContext {

        @Override
        public int inFlight(Endpoint endpoint) {
            return calls.get(endpoint.index());
        }

        @Override
        public RandomGenerator random() {
            // ThreadLocalRandom per calling thread: thread-safe without contention.
            return () -> ThreadLocalRandom.current().nextLong();
        }
    }

    private static BalancerProvider balancerProvider(ConfigNode config, PluginContext context) {
        String type = config.string("balancer", RoundRobinProvider.TYPE);
        return context.balancer(type).orElseGet(() -> {
            config.problem("balancer", "must be one of round-robin, weighted, least-outstanding, consistent-hash or "
                    + "the type of a balancer plugin, but was '" + type + "'");
            return new RoundRobinProvider();
        });
    }

    /** The single {@code url}, or the {@code instances} list: one of the two, never both. */
    private static List<Instance> instances(ConfigNode config, BalancerProvider balancer, Set<String> schemes,
            Optional<String> gatewayLocality) {
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
            if (node.has("weight") && !balancer.readsWeights()) {
                node.problem("weight", "only the weighted balancer (or a plugin's that says so) reads weights, not "
                        + balancer.type() + "; set balancer: weighted");
            }
            String locality = locality(node);
            // The gateway's own locality, or an instance or gateway that names none, is the first level.
            int defaultPriority = gatewayLocality.isEmpty() || locality.isEmpty()
                    || locality.equals(gatewayLocality.get()) ? 0 : 1;
            int priority = node.integer("priority", defaultPriority, 0, MAX_PRIORITY);
            Map<String, String> labels = labels(node);
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
                instances.add(new Instance(instances.size(), name, url, weight, locality, priority, labels));
            }
        }
        return instances;
    }

    private static String locality(ConfigNode node) {
        String locality = node.string("locality", "").strip();
        if (!locality.isEmpty() && !LOCALITY.matcher(locality).matches()) {
            node.problem("locality", "must be 1 to 128 letters, digits, '.', '_', ':', '/' and '-', but was '"
                    + locality + "'");
            return "";
        }
        return locality;
    }

    /** The {@code labels} mapping of an instance: names to scalar values, read as strings. */
    private static Map<String, String> labels(ConfigNode node) {
        if (!node.has("labels")) {
            return Map.of();
        }
        ConfigNode labels = node.child("labels");
        Map<String, String> result = new LinkedHashMap<>();
        // Read raw: label names are the operator's, not keys of the gateway's to check or document.
        labels.raw().fields().forEachRemaining(label -> {
            if (label.getValue().isValueNode() && !label.getValue().isNull()) {
                result.put(label.getKey(), label.getValue().asText());
            } else {
                labels.problem(label.getKey(), "must be a string");
            }
        });
        return result;
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
