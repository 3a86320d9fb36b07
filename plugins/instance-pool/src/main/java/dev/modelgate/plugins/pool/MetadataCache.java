package dev.modelgate.plugins.pool;

import dev.modelgate.spi.BackendException;
import dev.modelgate.spi.inference.ModelMetadata;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * A remote backend's model metadata, asked of its server at most every 30 seconds per model: decoders need it on
 * many calls, and it changes only when the server loads another model version. Thread-safe; two calls that find it
 * stale at once may both fetch it.
 */
public final class MetadataCache {

    private static final long TTL_NANOS = TimeUnit.SECONDS.toNanos(30);

    private final LongSupplier nanoTime;
    private final Map<String, Cached> byModel = new ConcurrentHashMap<>();

    private record Cached(ModelMetadata metadata, long fetchedNanos) {
    }

    /** How the server is asked for one model's metadata. */
    @FunctionalInterface
    public interface Fetch {
        ModelMetadata fetch(String model) throws BackendException;
    }

    /** @param nanoTime the monotonic time, in nanoseconds; {@link System#nanoTime} outside tests */
    public MetadataCache(LongSupplier nanoTime) {
        this.nanoTime = nanoTime;
    }

    /** The metadata of {@code model}, fetched when not known or older than 30 seconds. */
    public ModelMetadata get(String model, Fetch fetch) throws BackendException {
        Cached cached = byModel.get(model);
        long now = nanoTime.getAsLong();
        if (cached != null && now - cached.fetchedNanos() < TTL_NANOS) {
            return cached.metadata();
        }
        ModelMetadata fetched = fetch.fetch(model);
        byModel.put(model, new Cached(fetched, now));
        return fetched;
    }
}
