package dev.modelgate.plugins.pool;

import java.net.URI;

/**
 * One configured instance of a remote backend: a server that calls may be sent to.
 *
 * @param index the instance's position in the backend's {@code instances} list, which per-instance state is kept by
 * @param name how rules, logs and metrics name it: the configured {@code name}, else {@code host:port}
 * @param url where calls go: the instance's URL
 * @param weight its share of traffic under the {@code weighted} balancer; 1 under the others
 */
public record Instance(int index, String name, URI url, int weight) {

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
