package dev.modelgate.plugins.http;

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
import java.util.regex.Pattern;

/**
 * The validated configuration of one {@code http} backend.
 *
 * @param instances where predict requests may be posted, in configuration order; empty only when the configured
 *     ones were reported invalid
 * @param balancer how an instance is chosen among the available ones
 * @param hashKey what {@link Balancer.Policy#CONSISTENT_HASH} hashes; {@code null} under the other policies
 * @param rules routing rules, tried in order
 * @param defaultInstances where requests that match no rule go
 * @param healthCheck active health checking; {@code null} when off
 * @param outlierDetection passive ejection; {@code null} when off
 * @param maxConnections the most connections open to each instance at once; callers beyond it wait for one
 * @param connectTimeout how long to wait for a connection to be established
 * @param requestTimeout how long to wait for the backend's response once the request is sent
 * @param idleTimeout how long an unused pooled connection is kept
 * @param maxConnectionLifetime how long any connection is used before it is replaced, so DNS changes take effect
 * @param poolTimeout how long a request waits for a free connection when all are in use
 * @param forwardHeaders the request headers passed on to the backend
 * @param maxResponseBytes the largest response body taken; a larger one is refused rather than held in memory
 * @param modelName the model's name as the backend knows it; {@code null} for the name clients use
 * @param protocol the dialect the backend speaks ({@code tf-serving}, {@code kserve-v2}) with instance URLs as base
 *     URLs, or {@code null} for a backend whose URL takes the gateway's TF Serving bodies as they are
 */
record HttpBackendSettings(
        List<Instance> instances,
        Balancer.Policy balancer,
        HashKey hashKey,
        List<RoutingRule> rules,
        List<Instance> defaultInstances,
        HealthCheckSettings healthCheck,
        OutlierDetectionSettings outlierDetection,
        int maxConnections,
        Duration connectTimeout,
        Duration requestTimeout,
        Duration idleTimeout,
        Duration maxConnectionLifetime,
        Duration poolTimeout,
        List<String> forwardHeaders,
        int maxResponseBytes,
        String modelName,
        String protocol) {

    static final List<String> PROTOCOLS = List.of("tf-serving", "kserve-v2");

    /** Bodies are held in one array, and a backend response of more than this is not a prediction. */
    private static final long MAX_RESPONSE_SIZE_LIMIT = 1L << 30;

    private static final List<String> DEFAULT_FORWARD_HEADERS =
            List.of("X-Request-Id", "traceparent", "tracestate", "Accept");

    /** Headers the gateway sets for backends, which a client must never be able to supply. */
    private static final String GATEWAY_HEADER_PREFIX = "X-Modelgate-";

    /** Hop-by-hop headers and those describing the message: each connection has its own. */
    private static final Set<String> NOT_FORWARDED = Set.of("connection", "keep-alive", "proxy-connection",
            "transfer-encoding", "te", "trailer", "upgrade", "host", "content-length", "expect",
            "proxy-authorization");

    /** Instance names appear in rules, logs and metric labels: host names, IPv6 literals and ports fit. */
    private static final Pattern INSTANCE_NAME = Pattern.compile("[A-Za-z0-9._:\\[\\]-]{1,128}");

    private static final int MAX_WEIGHT = 10_000;

    private static final Duration DEFAULT_MAX_EJECTION = Duration.ofMinutes(5);

    /** Reads and validates {@code config}, reporting each bad value by key and using its default instead. */
    static HttpBackendSettings from(ConfigNode config) {
        Balancer.Policy balancer = balancer(config);
        String protocol = config.string("protocol", null);
        String modelName = config.string("model-name", null);
        List<Instance> instances = instances(config, balancer);
        if (protocol != null && PROTOCOLS.contains(protocol)) {
            List<Instance> bases = new ArrayList<>(instances.size());
            for (Instance instance : instances) {
                java.util.regex.Matcher call = DialectPaths.callOf(protocol, instance.url().getRawPath());
                if (call != null) {
                    // A whole call URL (what the backend takes without a protocol) names the server and the model.
                    bases.add(new Instance(instance.index(), instance.name(),
                            instance.url().resolve(call.group(1).isEmpty() ? "/" : call.group(1)), instance.weight()));
                    modelName = modelName != null ? modelName : call.group(2);
                } else {
                    bases.add(instance);
                }
            }
            instances = bases;
        }
        Map<String, Instance> byName = new LinkedHashMap<>();
        instances.forEach(instance -> byName.put(instance.name(), instance));
        HashKey hashKey = hashKey(config, balancer);
        List<RoutingRule> rules = rules(config, byName);
        List<Instance> defaultInstances = config.has("default-instances")
                ? named(config, "default-instances", byName)
                : instances;
        HealthCheckSettings healthCheck = config.has("health-check") ? healthCheck(config.child("health-check")) : null;
        OutlierDetectionSettings outlierDetection = config.has("outlier-detection")
                ? outlierDetection(config.child("outlier-detection"))
                : null;

        int maxConnections = config.integer("max-connections", 64, 1, 10_000);
        Duration connectTimeout = config.duration("connect-timeout", Duration.ofSeconds(1));
        Duration requestTimeout = config.duration("request-timeout", Duration.ofSeconds(30));
        if (requestTimeout.compareTo(connectTimeout) < 0) {
            // Timeouts are layered, each longer than the one it contains; the other way round is a slip.
            config.problem("request-timeout", "must not be shorter than connect-timeout ("
                    + connectTimeout.toMillis() + "ms), but was " + requestTimeout.toMillis() + "ms");
        }
        Duration idleTimeout = config.duration("idle-timeout", Duration.ofSeconds(60));
        Duration maxConnectionLifetime = config.duration("max-connection-lifetime", Duration.ofMinutes(5));
        Duration poolTimeout = config.duration("pool-timeout", connectTimeout);
        List<String> forwardHeaders = forwardHeaders(config);
        long maxResponseBytes = config.size("max-response-size", 64L << 20);
        if (maxResponseBytes > MAX_RESPONSE_SIZE_LIMIT) {
            config.problem("max-response-size", "must be at most 1GB, but was " + maxResponseBytes + " bytes");
            maxResponseBytes = MAX_RESPONSE_SIZE_LIMIT;
        }
        if (protocol != null && !PROTOCOLS.contains(protocol)) {
            config.problem("protocol", "must be one of " + String.join(", ", PROTOCOLS) + ", but was '" + protocol
                    + "'");
            protocol = null;
        }
        return new HttpBackendSettings(List.copyOf(instances), balancer, hashKey, List.copyOf(rules),
                List.copyOf(defaultInstances), healthCheck, outlierDetection, maxConnections, connectTimeout,
                requestTimeout, idleTimeout, maxConnectionLifetime, poolTimeout, forwardHeaders,
                (int) maxResponseBytes, modelName, protocol);
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
    private static List<Instance> instances(ConfigNode config, Balancer.Policy balancer) {
        if (!config.has("instances")) {
            URI url = url(config, "url");
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
            URI url = url(node, "url");
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

    private static URI url(ConfigNode config, String key) {
        String text = config.string(key);
        if (text.isEmpty()) {
            return null;
        }
        try {
            URI url = new URI(text);
            String scheme = url.getScheme();
            if (scheme != null && (scheme.equalsIgnoreCase("http") || scheme.equalsIgnoreCase("https"))
                    && url.getHost() != null) {
                return url;
            }
        } catch (URISyntaxException e) {
            // Reported below, with the message every malformed value gets.
        }
        config.problem(key, "must be an absolute http or https URL, but was '" + text + "'");
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

    private static HealthCheckSettings healthCheck(ConfigNode node) {
        String path = node.string("path");
        if (!path.isEmpty() && !path.startsWith("/")) {
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

    private static List<String> forwardHeaders(ConfigNode config) {
        List<String> forwardHeaders = config.has("forward-headers")
                ? config.strings("forward-headers")
                : DEFAULT_FORWARD_HEADERS;
        for (String name : forwardHeaders) {
            if (NOT_FORWARDED.contains(name.toLowerCase(Locale.ROOT))) {
                config.problem("forward-headers", "'" + name + "' cannot be forwarded: the connection to the backend "
                        + "sets its own");
            } else if (name.regionMatches(true, 0, GATEWAY_HEADER_PREFIX, 0, GATEWAY_HEADER_PREFIX.length())) {
                config.problem("forward-headers", "'" + name + "' cannot be forwarded: the gateway sets "
                        + GATEWAY_HEADER_PREFIX + "* headers itself, from the authenticated principal");
            } else if (name.equalsIgnoreCase(HttpBackend.TIMEOUT_HEADER)) {
                config.problem("forward-headers", "'" + name + "' cannot be forwarded: the gateway sends the time "
                        + "left until the request's deadline itself");
            }
        }
        return forwardHeaders;
    }
}
