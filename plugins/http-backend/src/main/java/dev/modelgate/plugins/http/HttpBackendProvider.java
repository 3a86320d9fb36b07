package dev.modelgate.plugins.http;

import dev.modelgate.plugins.pool.InstancePool;
import dev.modelgate.spi.Backend;
import dev.modelgate.spi.BackendProvider;
import dev.modelgate.spi.ConfigNode;
import dev.modelgate.spi.PluginContext;
import dev.modelgate.spi.inference.InferenceCodec;

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

    @Override
    public String type() {
        return "http";
    }

    @Override
    public Backend create(ConfigNode config, PluginContext context) {
        HttpBackendSettings settings = HttpBackendSettings.from(config, context);
        String name = InstancePool.backendName(context);
        InferenceCodec codec = null;
        if (settings.protocol() != null) {
            codec = context.codec(settings.protocol(), "application/json").orElse(null);
            if (codec == null) {
                config.problem("protocol", "no " + settings.protocol() + " codec is loaded: add its plugin");
                return null;
            }
        }
        // Monotonic: the wall clock stepping back would keep ejected instances out for as much longer.
        return codec == null ? new HttpBackend(settings, context, name, System::nanoTime)
                : new InferenceHttpBackend(settings, context, name, System::nanoTime, codec);
    }
}
