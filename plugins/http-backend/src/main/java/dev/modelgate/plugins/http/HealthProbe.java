package dev.modelgate.plugins.http;

import dev.modelgate.plugins.pool.HealthCheckSettings;
import dev.modelgate.plugins.pool.Instance;
import java.io.IOException;
import org.apache.hc.client5.http.classic.methods.HttpGet;
import org.apache.hc.client5.http.config.RequestConfig;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.core5.http.ConnectionRequestTimeoutException;
import org.apache.hc.core5.http.io.entity.EntityUtils;
import org.apache.hc.core5.util.Timeout;

/**
 * The {@code http} backend's health probe, as Envoy's HTTP health checks: {@code GET path} on the instance's host and
 * port; a 2xx answer within the timeout passes, anything else fails. Probes go through the backend's pooled client, so
 * they count against {@code max-connections} and share its connect timeout. Thread-safe.
 */
final class HealthProbe {

    private final HealthCheckSettings settings;
    private final CloseableHttpClient client;
    private final RequestConfig probeConfig;

    /** @param settings the backend's health checks, or {@code null} when it has none (the probe is then unused) */
    HealthProbe(HealthCheckSettings settings, CloseableHttpClient client) {
        this.settings = settings;
        this.client = client;
        Timeout timeout = settings == null ? Timeout.DISABLED : Timeout.of(settings.timeout());
        this.probeConfig = RequestConfig.custom()
                .setConnectionRequestTimeout(timeout)
                .setResponseTimeout(timeout)
                .build();
    }

    /**
     * Probes once: {@code true} passed, {@code false} failed, {@code null} when no pooled connection was free (the
     * instance is busy with requests, which says nothing about its health, so the round is not counted).
     */
    Boolean probe(Instance instance) {
        HttpGet request = new HttpGet(instance.url().resolve(settings.path()));
        request.setConfig(probeConfig);
        try {
            int status = client.execute(request, response -> {
                // Reading the body to its end returns the connection to the pool.
                EntityUtils.consume(response.getEntity());
                return response.getCode();
            });
            return status >= 200 && status < 300;
        } catch (ConnectionRequestTimeoutException e) {
            return null;
        } catch (IOException e) {
            return false;
        }
    }
}
