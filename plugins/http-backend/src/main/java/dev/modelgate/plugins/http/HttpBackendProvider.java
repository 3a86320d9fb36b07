package dev.modelgate.plugins.http;

import dev.modelgate.plugins.pool.InstancePool;
import dev.modelgate.spi.Backend;
import dev.modelgate.spi.BackendProvider;
import dev.modelgate.spi.ConfigNode;
import dev.modelgate.spi.Metrics;
import dev.modelgate.spi.PluginContext;
import dev.modelgate.spi.inference.InferenceCodec;
import java.util.Map;
import java.util.function.ToIntFunction;
import org.apache.hc.client5.http.config.ConnectionConfig;
import org.apache.hc.client5.http.config.RequestConfig;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.client5.http.impl.classic.HttpClients;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManager;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManagerBuilder;
import org.apache.hc.core5.io.CloseMode;
import org.apache.hc.core5.pool.PoolConcurrencyPolicy;
import org.apache.hc.core5.pool.PoolReusePolicy;
import org.apache.hc.core5.pool.PoolStats;
import org.apache.hc.core5.util.TimeValue;
import org.apache.hc.core5.util.Timeout;

/**
 * The {@code http} backend: forwards predict requests to a model server's URL, or to one of several instances of
 * it, as they came. See {@link HttpBackend} for what one call does.
 *
 * <p>Config keys: {@code url}, or {@code instances} (a list of {@code url}, optional {@code name} (default
 * {@code host:port}), {@code weight} (1), {@code locality}, {@code priority} and {@code labels}); {@code balancer}
 * ({@code round-robin}, {@code weighted}, {@code least-outstanding}, {@code consistent-hash} with {@code hash-key}:
 * {@code header:NAME}, {@code claim:NAME}, {@code subject} or {@code client-ip}, or a balancer plugin's type);
 * {@code rules} (each {@code header} or {@code claim}, {@code equals} a value
 * or list of values, and the {@code instances} matching requests go to); {@code default-instances} (all);
 * {@code health-check} ({@code path}, {@code interval} 10s, {@code timeout} 1s, {@code healthy-threshold} 2,
 * {@code unhealthy-threshold} 3); {@code outlier-detection} ({@code consecutive-failures} 5,
 * {@code base-ejection-time} 30s, {@code max-ejection-time} 5m, {@code max-ejection-percent} 10);
 * {@code max-connections} (64, per instance), {@code connect-timeout} (1s), {@code request-timeout} (30s),
 * {@code idle-timeout} (60s), {@code max-connection-lifetime} (5m), {@code pool-timeout} (the connect timeout),
 * {@code forward-headers} (X-Request-Id, traceparent, tracestate, Accept), {@code max-response-size} (64MB) and
 * {@code model-name}.
 *
 * <p>Exports {@code modelgate_backend_connections{backend, state}} for the pool's leased, available and pending
 * connections; per instance, {@code modelgate_backend_instance_requests_total}, {@code ..._failures_total},
 * {@code ..._ejections_total} and the {@code modelgate_backend_instance_healthy} and {@code ..._in_flight} gauges;
 * per backend {@code modelgate_backend_panic_total}.
 *
 * <p>A successful answer of unknown length (server-sent events) or over 64 KiB is streamed to the client as it
 * arrives, within {@code max-response-size} and {@code request-timeout}; see {@link HttpBackend}.
 *
 * <p>Retries are the {@code retry} middleware's; a retried request goes to an instance it has not tried yet when
 * the pool has one.
 *
 * <p>When an authentication middleware set a {@link dev.modelgate.spi.Principal}, the backend receives
 * {@code X-Modelgate-Subject} (its subject) and {@code X-Modelgate-Roles} (its roles, sorted and comma-separated).
 */
public final class HttpBackendProvider implements BackendProvider {

    /** A connection idle this long is checked before reuse, as the backend may have closed it meanwhile. */
    private static final TimeValue VALIDATE_AFTER_INACTIVITY = TimeValue.ofSeconds(2);

    @Override
    public String type() {
        return "http";
    }

    @Override
    public Backend create(ConfigNode config, PluginContext context) {
        HttpBackendSettings settings = HttpBackendSettings.from(config, context);
        // One pool for every instance: Apache bounds connections per route, that is per instance's host and port.
        PoolingHttpClientConnectionManager pool = PoolingHttpClientConnectionManagerBuilder.create()
                .setMaxConnPerRoute(settings.maxConnections())
                // Lax: a pool per route, leased and released with atomics rather than one lock over every route.
                // max-connections stays a hard bound on what an instance sees: a route's pool allocates a connection
                // only by a compare-and-set of its count against its maximum. What lax drops is the total across
                // routes, which is the per-route bound times the instances anyway. LIFO keeps few connections warm.
                .setPoolConcurrencyPolicy(PoolConcurrencyPolicy.LAX)
                .setConnPoolPolicy(PoolReusePolicy.LIFO)
                .setDefaultConnectionConfig(ConnectionConfig.custom()
                        .setConnectTimeout(Timeout.of(settings.connectTimeout()))
                        // Reads are untimed: each call's watchdog bounds it whole (handshake, wait, body). A timed read
                        // on a virtual thread arms a timer per read, which cost more than the call's one watchdog.
                        .setSocketTimeout(Timeout.DISABLED)
                        .setTimeToLive(TimeValue.of(settings.maxConnectionLifetime()))
                        .setValidateAfterInactivity(VALIDATE_AFTER_INACTIVITY)
                        .build())
                .build();
        CloseableHttpClient client = HttpClients.custom()
                .setConnectionManager(pool)
                // HttpBackend sets a config of its own only on calls a nearer deadline cuts short.
                .setDefaultRequestConfig(RequestConfig.custom()
                        .setConnectionRequestTimeout(Timeout.of(settings.poolTimeout()))
                        .setResponseTimeout(Timeout.DISABLED)
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
        String name = InstancePool.backendName(context);
        // Monotonic: the wall clock stepping back would keep ejected instances out for as much longer.
        if (settings.protocol() == null) {
            return new HttpBackend(settings, client, name, context.metrics(), context.logger(), System::nanoTime);
        }
        InferenceCodec codec = context.codec(settings.protocol(), "application/json").orElse(null);
        if (codec == null) {
            config.problem("protocol", "no " + settings.protocol() + " codec is loaded: add its plugin");
            client.close(CloseMode.IMMEDIATE);
            return null;
        }
        return new InferenceHttpBackend(settings, client, name, context.metrics(), context.logger(), System::nanoTime,
                codec);
    }

    private static void exportPoolGauges(PluginContext context, PoolingHttpClientConnectionManager pool) {
        String backend = InstancePool.backendName(context);
        gauge(context.metrics(), backend, pool, "leased", PoolStats::getLeased);
        gauge(context.metrics(), backend, pool, "available", PoolStats::getAvailable);
        gauge(context.metrics(), backend, pool, "pending", PoolStats::getPending);
    }

    private static void gauge(Metrics metrics, String backend, PoolingHttpClientConnectionManager pool, String state,
            ToIntFunction<PoolStats> count) {
        metrics.gauge("modelgate_backend_connections",
                "Connections of the backend's pool, by state: leased (in use), available (idle), pending (awaited).",
                Map.of("backend", backend, "state", state),
                () -> pool.isClosed() ? 0 : count.applyAsInt(pool.getTotalStats()));
    }
}
