package dev.modelgate.plugins.ratelimit;

import dev.modelgate.kernel.MetricsRegistry;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;

/**
 * Prints the decisions per second of the local and the Redis limiter, for {@code scripts/bench}: THREADS virtual
 * threads decide as fast as they can for SECONDS each run (after one warm-up run), over one hot key and over 10000
 * keys. The Redis runs use a {@code redis-server} started on a free port, the gateway's default pool of 8 connections
 * and a 1s timeout. Arguments: {@code [SECONDS [THREADS]]}, default 5 and 32.
 */
public final class LimiterThroughput {

    private static final int KEYS = 10_000;
    /** The gateway's default redis-pool-size: that many connections, each carrying batches of decisions. */
    private static final int DEFAULT_POOL_SIZE = 8;

    private LimiterThroughput() {
    }

    public static void main(String[] args) throws Exception {
        Duration run = Duration.ofSeconds(args.length > 0 ? Long.parseLong(args[0]) : 5);
        int threads = args.length > 1 ? Integer.parseInt(args[1]) : 32;
        // Per second and per minute, as a route would have them: spread over 10000 keys nearly every request is
        // admitted; the hot key is mostly refused (which writes nothing).
        List<Limit> limits = List.of(new Limit(Limit.Algorithm.TOKEN_BUCKET, 1000, Duration.ofSeconds(1), 1000),
                new Limit(Limit.Algorithm.TOKEN_BUCKET, 20_000, Duration.ofMinutes(1), 20_000));
        System.out.printf("rate-limit decisions per second: %d virtual threads, %ds per run, two limits per "
                + "request%n", threads, run.toSeconds());
        LocalLimiter local = new LocalLimiter(limits, System::nanoTime, 100_000);
        report("local", local, threads, run);
        try (RedisServer redis = RedisServer.start()) {
            MetricsRegistry metrics = new MetricsRegistry();
            try (RedisLimiter remote = new RedisLimiter(new RedisLimiter.Settings(URI.create(redis.url()),
                    Duration.ofSeconds(1), DEFAULT_POOL_SIZE, Duration.ofSeconds(1),
                    RedisLimiter.FailurePolicy.FAIL_CLOSED, "bench:"), limits, local, System::nanoTime,
                    metrics.counter("bench_failures_total", "failures", Map.of()),
                    metrics.counter("bench_fallbacks_total", "fallbacks", Map.of()),
                    System.getLogger("bench"))) {
                report("redis", remote, threads, run);
            }
        }
    }

    private static void report(String store, Limiter limiter, int threads, Duration run) throws Exception {
        measure(limiter, threads, run, KEYS);
        System.out.printf("  %-6s one hot key   %,12.0f/s%n", store, measure(limiter, threads, run, 1));
        System.out.printf("  %-6s %,d keys   %,12.0f/s%n", store, KEYS, measure(limiter, threads, run, KEYS));
    }

    /** Decisions per second over {@code keys} keys; fails when the store did not make every decision itself. */
    private static double measure(Limiter limiter, int threads, Duration run, int keys) throws Exception {
        AtomicBoolean running = new AtomicBoolean(true);
        LongAdder decisions = new LongAdder();
        LongAdder undecided = new LongAdder();
        long start;
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<?>> workers = new ArrayList<>();
            start = System.nanoTime();
            for (int t = 0; t < threads; t++) {
                int first = t;
                workers.add(pool.submit(() -> {
                    for (int i = first; running.get(); i += threads) {
                        Decision.Verdict verdict = limiter.decide("client-" + i % keys).verdict();
                        boolean decided = verdict == Decision.Verdict.ALLOWED || verdict == Decision.Verdict.DENIED;
                        (decided ? decisions : undecided).increment();
                    }
                }));
            }
            // The benchmark's run length, not a test's wait: this main measures for a fixed time.
            Thread.sleep(run);
            running.set(false);
            for (Future<?> worker : workers) {
                worker.get();
            }
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        if (undecided.sum() > 0) {
            throw new IllegalStateException(undecided.sum() + " decisions were not made by the store");
        }
        return decisions.sum() / seconds;
    }
}
