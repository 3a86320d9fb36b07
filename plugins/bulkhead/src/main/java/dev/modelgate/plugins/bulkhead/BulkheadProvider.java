package dev.modelgate.plugins.bulkhead;

import dev.modelgate.spi.BackendFilter;
import dev.modelgate.spi.BackendFilterProvider;
import dev.modelgate.spi.ConfigNode;
import dev.modelgate.spi.ErrorCode;
import dev.modelgate.spi.PluginContext;
import java.time.Duration;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The {@code bulkhead} backend filter, listed in {@code backends.NAME.filters}: at most {@code max-concurrent-calls}
 * calls in progress to the backend (default 25), whichever routes they come from; a call beyond that waits up to
 * {@code max-wait} (default {@code 0}: not at all) and is then answered 503 with code 30301, as is a call still
 * waiting when its request's deadline comes. A streamed answer holds its place until its last byte. Exports
 * {@code modelgate_bulkhead_in_flight{backend}}, {@code modelgate_bulkhead_waiting{backend}} and
 * {@code modelgate_bulkhead_rejected_total{backend}}.
 */
public final class BulkheadProvider implements BackendFilterProvider {

    public static final ErrorCode BULKHEAD_FULL = new ErrorCode(30301, 503, "UNAVAILABLE", "bulkhead full");

    /** {@code 0}, {@code 0ms}, {@code 0s}: no wait, which {@link ConfigNode#duration} refuses as not positive. */
    private static final Pattern ZERO = Pattern.compile("0+(ms|s|m|h)?");

    @Override
    public String type() {
        return "bulkhead";
    }

    @Override
    public List<ErrorCode> errorCodes() {
        return List.of(BULKHEAD_FULL);
    }

    @Override
    public BackendFilter create(ConfigNode config, PluginContext context) {
        String backend = BackendFilterProvider.backendName(context);
        int maxConcurrentCalls = config.integer("max-concurrent-calls", BulkheadConfig.DEFAULT_MAX_CONCURRENT_CALLS,
                1, BulkheadConfig.MAX_MAX_CONCURRENT_CALLS);
        Duration maxWait = ZERO.matcher(config.string("max-wait", "0").trim()).matches() ? Duration.ZERO
                : config.duration("max-wait", BulkheadConfig.DEFAULT_MAX_WAIT);
        BulkheadFilter filter = new BulkheadFilter(backend, new BulkheadConfig(maxConcurrentCalls, maxWait),
                BULKHEAD_FULL, context.metrics());
        // The same filter, not phased, so the kernel never parks an IO thread waiting for a place.
        return filter.waits() ? filter::filter : filter;
    }
}
