package dev.modelgate.plugins.pool;

import dev.modelgate.spi.balancer.Endpoint;
import java.net.URI;
import java.util.Map;

/**
 * One configured instance of a remote backend: a server that calls may be sent to.
 *
 * @param index the instance's position in the backend's {@code instances} list, which per-instance state is kept by
 * @param name how rules, logs and metrics name it: the configured {@code name}, else {@code host:port}
 * @param url where calls go: the instance's URL
 * @param weight its share of traffic under a balancer that reads weights; 1 under the others
 * @param locality its region, zone or cluster; {@code ""} when not configured
 * @param priority its priority level, 0 the highest
 * @param labels free-form key-value pairs for balancers to match on
 */
public record Instance(int index, String name, URI url, int weight, String locality, int priority,
        Map<String, String> labels) implements Endpoint {

    public Instance {
        labels = Map.copyOf(labels);
    }

    /** An instance of no locality, priority 0 and no labels: a backend's single {@code url}. */
    public Instance(int index, String name, URI url, int weight) {
        this(index, name, url, weight, "", 0, Map.of());
    }

    /** {@code host:port}, with the scheme's default port when the URL has none. */
    public static String defaultName(URI url) {
        int port = url.getPort() != -1 ? url.getPort() : "https".equalsIgnoreCase(url.getScheme()) ? 443 : 80;
        return url.getHost() + ":" + port;
    }

    @Override
    public String toString() {
        return name;
    }
}
