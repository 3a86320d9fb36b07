package dev.modelgate.plugins.batching;

import dev.modelgate.spi.ConfigNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A batcher's settings, as Triton's dynamic batcher names them (shared/reference/protocols.md section 4).
 *
 * @param maxBatchSize the most rows (first-dimension entries, summed over the requests) one backend call carries
 * @param strategy when a batch leaves
 * @param maxQueueDelay with {@link Strategy#DELAY}: how long the oldest request may wait for a fuller batch
 * @param preferredBatchSizes sizes sent as soon as they can be formed, largest first; empty when none
 * @param maxQueueSize requests that may wait at once; one more is refused
 * @param maxConcurrentBatches batches in flight to the backend at once
 */
record BatchingSettings(int maxBatchSize, Strategy strategy, Duration maxQueueDelay, List<Integer> preferredBatchSizes,
        int maxQueueSize, int maxConcurrentBatches) {

    static final int DEFAULT_MAX_BATCH_SIZE = 8;
    static final Duration DEFAULT_MAX_QUEUE_DELAY = Duration.ofMillis(1);
    static final int DEFAULT_MAX_QUEUE_SIZE = 1024;
    static final int DEFAULT_MAX_CONCURRENT_BATCHES = 1;
    private static final int MAX_ROWS = 1 << 16;

    /** When a batch leaves for the backend. */
    enum Strategy {
        /**
         * As soon as a batch slot is free, with whatever compatible requests are queued: a lone request at low load
         * never waits, and batches grow only while every slot is busy, that is, exactly when load does.
         */
        OPPORTUNISTIC,
        /**
         * Triton's: when a slot is free and a full or preferred batch can be formed, or once the oldest request has
         * waited {@code max-queue-delay}: fuller batches at the price of that delay at low load.
         */
        DELAY
    }

    /** Reads the settings, reporting each refused value under its key path. */
    static BatchingSettings from(ConfigNode config) {
        int maxBatchSize = config.integer("max-batch-size", DEFAULT_MAX_BATCH_SIZE, 1, MAX_ROWS);
        String strategyName = config.string("strategy", "opportunistic");
        Strategy strategy = switch (strategyName) {
            case "opportunistic" -> Strategy.OPPORTUNISTIC;
            case "delay" -> Strategy.DELAY;
            default -> {
                config.problem("strategy", "must be opportunistic or delay, but was '" + strategyName + "'");
                yield Strategy.OPPORTUNISTIC;
            }
        };
        if (strategy == Strategy.OPPORTUNISTIC && config.has("max-queue-delay")) {
            config.problem("max-queue-delay", "means nothing with strategy opportunistic, which sends as soon as the "
                    + "backend has a free batch slot; use strategy: delay to wait for fuller batches");
        }
        Duration maxQueueDelay = config.duration("max-queue-delay", DEFAULT_MAX_QUEUE_DELAY);
        List<Integer> preferred = new ArrayList<>();
        List<String> sizes = config.strings("preferred-batch-sizes");
        for (int i = 0; i < sizes.size(); i++) {
            String key = "preferred-batch-sizes[" + i + "]";
            try {
                int size = Integer.parseInt(sizes.get(i).trim());
                if (size < 1 || size > maxBatchSize) {
                    config.problem(key, "must be between 1 and max-batch-size (" + maxBatchSize + "), but was "
                            + size);
                } else if (!preferred.contains(size)) {
                    preferred.add(size);
                }
            } catch (NumberFormatException e) {
                config.problem(key, "must be an integer, but was '" + sizes.get(i) + "'");
            }
        }
        preferred.sort(java.util.Comparator.reverseOrder());
        int maxQueueSize = config.integer("max-queue-size", DEFAULT_MAX_QUEUE_SIZE, 1, 1 << 20);
        int maxConcurrentBatches = config.integer("max-concurrent-batches", DEFAULT_MAX_CONCURRENT_BATCHES, 1, 1024);
        return new BatchingSettings(maxBatchSize, strategy, maxQueueDelay, List.copyOf(preferred), maxQueueSize,
                maxConcurrentBatches);
    }
}
