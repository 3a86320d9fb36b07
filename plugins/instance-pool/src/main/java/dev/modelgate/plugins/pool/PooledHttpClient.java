package dev.modelgate.plugins.pool;

import dev.modelgate.spi.PluginContext;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.time.Duration;
import java.util.function.BooleanSupplier;
import java.util.function.IntSupplier;
import java.util.function.ToIntFunction;
import org.apache.hc.client5.http.config.ConnectionConfig;
import org.apache.hc.client5.http.config.RequestConfig;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.client5.http.impl.classic.HttpClients;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManager;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManagerBuilder;
import org.apache.hc.core5.http.ClassicHttpRequest;
import org.apache.hc.core5.http.ClassicHttpResponse;
import org.apache.hc.core5.pool.PoolConcurrencyPolicy;
import org.apache.hc.core5.pool.PoolReusePolicy;
import org.apache.hc.core5.pool.PoolStats;
import org.apache.hc.core5.util.TimeValue;
import org.apache.hc.core5.util.Timeout;

/**
 * The HTTP client a remote backend ({@code http}, {@code openai}) calls its servers with: Apache HttpClient 5 classic,
 * blocking on the request's own virtual thread, over one keep-alive connection pool per backend. A proxy's client:
 * it passes bytes and answers once.
 */
public final class PooledHttpClient {

    /** A connection idle this long is checked before reuse, as the server may have closed it meanwhile. */
    private static final TimeValue VALIDATE_AFTER_INACTIVITY = TimeValue.ofSeconds(2);

    private PooledHttpClient() {
    }

    /**
     * How the pool connects and keeps its connections.
     *
     * @param maxConnections the most connections to one server (host and port)
     * @param poolTimeout how long a call waits for a free connection when all are in use
     * @param idleTimeout how long an unused connection is kept
     * @param maxConnectionLifetime how long any connection is used before it is replaced, so DNS changes take effect
     */
    public record Settings(int maxConnections, Duration connectTimeout, Duration poolTimeout, Duration idleTimeout,
            Duration maxConnectionLifetime) {
    }

    /**
     * A client over a new pool, whose {@code modelgate_backend_connections{backend, state}} gauges (leased, available,
     * pending) it exports. Reads are untimed: the caller bounds each call with a watchdog of its own
     * ({@link Watchdogs}) and cancels the request at its time limit.
     */
    public static CloseableHttpClient create(Settings settings, PluginContext context) {
        // One pool for every server: Apache bounds connections per route, that is per server's host and port.
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
                // A caller sets a config of its own only on calls a nearer deadline cuts short.
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
        return client;
    }

    /**
     * Sends {@code request} and opens its answer. A cancel that lands while Apache leases or connects comes out as an
     * illegal state ("Endpoint not acquired / already released"); when {@code cancelled} says the caller's watchdog
     * cut the call, it is an {@link InterruptedIOException} like any other cancel, a timeout rather than a bug.
     */
    public static ClassicHttpResponse open(CloseableHttpClient client, ClassicHttpRequest request,
            BooleanSupplier cancelled) throws IOException {
        try {
            return client.executeOpen(null, request, null);
        } catch (IllegalStateException e) {
            if (!cancelled.getAsBoolean()) {
                throw e;
            }
            InterruptedIOException cancel = new InterruptedIOException("cancelled: " + e.getMessage());
            cancel.initCause(e);
            throw cancel;
        }
    }

    private static void exportPoolGauges(PluginContext context, PoolingHttpClientConnectionManager pool) {
        ConnectionGauges.export(context, count(pool, PoolStats::getLeased), count(pool, PoolStats::getAvailable),
                count(pool, PoolStats::getPending));
    }

    private static IntSupplier count(PoolingHttpClientConnectionManager pool, ToIntFunction<PoolStats> count) {
        return () -> pool.isClosed() ? 0 : count.applyAsInt(pool.getTotalStats());
    }
}
