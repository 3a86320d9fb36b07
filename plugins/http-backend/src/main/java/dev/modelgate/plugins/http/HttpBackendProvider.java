package dev.modelgate.plugins.http;

import dev.modelgate.spi.Backend;
import dev.modelgate.spi.BackendProvider;
import dev.modelgate.spi.ConfigNode;
import dev.modelgate.spi.Metrics;
import dev.modelgate.spi.PluginContext;
import java.util.Map;
import java.util.function.ToIntFunction;
import org.apache.hc.client5.http.config.ConnectionConfig;
import org.apache.hc.client5.http.config.RequestConfig;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.client5.http.impl.classic.HttpClients;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManager;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManagerBuilder;
import org.apache.hc.core5.pool.PoolConcurrencyPolicy;
import org.apache.hc.core5.pool.PoolReusePolicy;
import org.apache.hc.core5.pool.PoolStats;
import org.apache.hc.core5.util.TimeValue;
import org.apache.hc.core5.util.Timeout;

/**
 * The {@code http} backend: forwards predict requests to a model server's URL as they came.
 *
 * <p>Config keys: {@code url} (required), {@code max-connections} (64), {@code connect-timeout} (1s),
 * {@code request-timeout} (30s), {@code idle-timeout} (60s), {@code max-connection-lifetime} (5m),
 * {@code pool-timeout} (the connect timeout), {@code forward-headers} (X-Request-Id, traceparent, tracestate,
 * Accept), {@code max-response-size} (64MB) and {@code model-name}. Exports {@code modelgate_backend_connections{backend, state}} for the pool's
 * leased, available and pending connections.
 *
 * <p>When an authentication middleware set a {@link dev.modelgate.spi.Principal}, the backend receives
 * {@code X-Modelgate-Subject} (its subject) and {@code X-Modelgate-Roles} (its roles, sorted and comma-separated).
 */
public final class HttpBackendProvider implements BackendProvider {

    /** A connection idle this long is checked before reuse, as the backend may have closed it meanwhile. */
    private static final TimeValue VALIDATE_AFTER_INACTIVITY = TimeValue.ofSeconds(2);

    private static final String BACKENDS_SECTION = "backends.";

    @Override
    public String type() {
        return "http";
    }

    @Override
    public Backend create(ConfigNode config, PluginContext context) {
        HttpBackendSettings settings = HttpBackendSettings.from(config);
        PoolingHttpClientConnectionManager pool = PoolingHttpClientConnectionManagerBuilder.create()
                .setMaxConnTotal(settings.maxConnections())
                .setMaxConnPerRoute(settings.maxConnections())
                // Strict: max-connections is a hard bound on what the backend sees. LIFO keeps few connections warm.
                .setPoolConcurrencyPolicy(PoolConcurrencyPolicy.STRICT)
                .setConnPoolPolicy(PoolReusePolicy.LIFO)
                .setDefaultConnectionConfig(ConnectionConfig.custom()
                        .setConnectTimeout(Timeout.of(settings.connectTimeout()))
                        // Bounds every read, the TLS handshake's included; the response timeout below is the same.
                        .setSocketTimeout(Timeout.of(settings.requestTimeout()))
                        .setTimeToLive(TimeValue.of(settings.maxConnectionLifetime()))
                        .setValidateAfterInactivity(VALIDATE_AFTER_INACTIVITY)
                        .build())
                .build();
        CloseableHttpClient client = HttpClients.custom()
                .setConnectionManager(pool)
                .setDefaultRequestConfig(RequestConfig.custom()
                        .setConnectionRequestTimeout(Timeout.of(settings.poolTimeout()))
                        .setResponseTimeout(Timeout.of(settings.requestTimeout()))
                        .build())
                // A proxy passes bytes and answers once: no retry of a non-idempotent predict, no redirect, no
                // cookie, no decompression, no user agent of its own.
                .disableAutomaticRetries()
                .disableRedirectHandling()
                .disableCookieManagement()
                .disableContentCompression()
                .disableDefaultUserAgent()
                .evictIdleConnections(TimeValue.of(settings.idleTimeout()))
                .evictExpiredConnections()
                .build();
        exportPoolGauges(context, pool);
        return new HttpBackend(settings, client);
    }

    private static void exportPoolGauges(PluginContext context, PoolingHttpClientConnectionManager pool) {
        String backend = backendName(context);
        gauge(context.metrics(), backend, pool, "leased", PoolStats::getLeased);
        gauge(context.metrics(), backend, pool, "available", PoolStats::getAvailable);
        gauge(context.metrics(), backend, pool, "pending", PoolStats::getPending);
    }

    /** The backend's configured name, {@code tf-main} for {@code backends.tf-main}: the kernel's metrics use it. */
    private static String backendName(PluginContext context) {
        String path = context.name();
        return path.startsWith(BACKENDS_SECTION) ? path.substring(BACKENDS_SECTION.length()) : path;
    }

    private static void gauge(Metrics metrics, String backend, PoolingHttpClientConnectionManager pool, String state,
            ToIntFunction<PoolStats> count) {
        metrics.gauge("modelgate_backend_connections",
                "Connections of the backend's pool, by state: leased (in use), available (idle), pending (awaited).",
                Map.of("backend", backend, "state", state),
                () -> pool.isClosed() ? 0 : count.applyAsInt(pool.getTotalStats()));
    }
}
