package dev.modelgate.plugins.batching;

import dev.modelgate.spi.BackendFilter;
import dev.modelgate.spi.BackendFilterProvider;
import dev.modelgate.spi.ConfigNode;
import dev.modelgate.spi.ErrorCode;
import dev.modelgate.spi.PluginContext;
import java.util.List;

/**
 * The {@code batching} backend filter, listed in {@code backends.NAME.filters}: concurrent inference requests to the
 * backend are merged along their first dimension into one call and its answer split back, as Triton's dynamic batcher
 * does inside a model server, for backends that do not batch themselves. See {@link Batcher} for the algorithm and
 * {@link BatchingSettings} for the keys. List it first, so that the filters after it (circuit breaker, bulkhead,
 * retry) count backend calls rather than client requests.
 */
public final class BatchingProvider implements BackendFilterProvider {

    public static final ErrorCode QUEUE_FULL = new ErrorCode(30401, 503, "UNAVAILABLE", "batching queue full");
    /** What the access log records for a request whose client left the queue; the client reads nothing. */
    public static final ErrorCode CLIENT_GONE = new ErrorCode(30402, 499, "CANCELLED",
            "the client went away while its request waited for a batch");

    @Override
    public String type() {
        return "batching";
    }

    @Override
    public List<ErrorCode> errorCodes() {
        return List.of(QUEUE_FULL, CLIENT_GONE);
    }

    @Override
    public boolean needsTensors() {
        return true;
    }

    @Override
    public BackendFilter create(ConfigNode config, PluginContext context) {
        return new Batcher(BackendFilterProvider.backendName(context), BatchingSettings.from(config),
                context.metrics());
    }
}
