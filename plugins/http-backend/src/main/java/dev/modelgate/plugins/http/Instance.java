package dev.modelgate.plugins.http;

import java.net.URI;

/**
 * One configured instance of an {@code http} backend: a server that predict requests may be posted to.
 *
 * @param index the instance's position in the backend's {@code instances} list, which per-instance state is kept by
 * @param name how rules, logs and metrics name it: the configured {@code name}, else {@code host:port}
 * @param url where predict requests are posted
 * @param weight its share of traffic under the {@code weighted} balancer; 1 under the others
 */
record Instance(int index, String name, URI url, int weight) {

    /** {@code host:port}, with the scheme's default port when the URL has none. */
    static String defaultName(URI url) {
        int port = url.getPort() != -1 ? url.getPort() : "https".equalsIgnoreCase(url.getScheme()) ? 443 : 80;
        return url.getHost() + ":" + port;
    }

    @Override
    public String toString() {
        return name;
    }
}
