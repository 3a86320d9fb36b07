package dev.modelgate.plugins.pool;

import dev.modelgate.spi.Exchange;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.IntUnaryOperator;
import java.util.random.RandomGenerator;

/**
 * Chooses the instance for one call among the candidates: those of the request's pool that are healthy, not ejected
 * and not yet tried by this request.
 *
 * <p>Thread-safety: called concurrently from many virtual threads; implementations never block.
 */
public interface Balancer {

    /** The {@code balancer} policies, by configuration name. */
    enum Policy {
        ROUND_ROBIN("round-robin"),
        WEIGHTED("weighted"),
        LEAST_OUTSTANDING("least-outstanding"),
        CONSISTENT_HASH("consistent-hash");

        private final String configName;

        Policy(String configName) {
            this.configName = configName;
        }

        public String configName() {
            return configName;
        }
    }

    /**
     * One of {@code candidates}, never empty, for {@code exchange}.
     *
     * @param candidates the instances that may take the call, in configuration order
     */
    Instance pick(List<Instance> candidates, Exchange exchange);

    /**
     * The balancer of {@code settings}.
     *
     * @param outstanding the calls in flight to the instance of a given index, for {@code least-outstanding}
     * @param random the randomness {@code least-outstanding} breaks ties with; thread-safe
     */
    static Balancer of(PoolSettings settings, IntUnaryOperator outstanding, RandomGenerator random) {
        return switch (settings.balancer()) {
            case ROUND_ROBIN -> new RoundRobin();
            case WEIGHTED -> new SmoothWeighted(settings.instances().size());
            case LEAST_OUTSTANDING -> new LeastOutstanding(outstanding, random);
            // Without a key (a request lacking the header, say) there is nothing to be sticky to: spread them.
            case CONSISTENT_HASH -> new ConsistentHash(new HashRing(settings.instances()), settings.hashKey(),
                    new RoundRobin());
        };
    }

    /** Each candidate in turn. */
    final class RoundRobin implements Balancer {

        private final AtomicInteger next = new AtomicInteger();

        @Override
        public Instance pick(List<Instance> candidates, Exchange exchange) {
            return candidates.get(Math.floorMod(next.getAndIncrement(), candidates.size()));
        }
    }

    /**
     * nginx's smooth weighted round robin: over any run of picks among the same candidates, each gets exactly its
     * share of the total weight, interleaved ({@code a a b a a} rather than {@code a a a a b}). Canary and gray
     * release by percentage are this with weights such as 90 and 10.
     */
    final class SmoothWeighted implements Balancer {

        private final ReentrantLock lock = new ReentrantLock();
        /** By instance index; guarded by {@link #lock}. */
        private final long[] current;

        /** @param instances how many instances there are: the candidates' indexes are below it */
        public SmoothWeighted(int instances) {
            current = new long[instances];
        }

        @Override
        public Instance pick(List<Instance> candidates, Exchange exchange) {
            lock.lock();
            try {
                long total = 0;
                Instance best = null;
                for (Instance candidate : candidates) {
                    current[candidate.index()] += candidate.weight();
                    total += candidate.weight();
                    if (best == null || current[candidate.index()] > current[best.index()]) {
                        best = candidate;
                    }
                }
                current[best.index()] -= total;
                return best;
            } finally {
                lock.unlock();
            }
        }
    }

    /**
     * The power of two choices: of two candidates drawn at random, the one with fewer calls in flight. Nearly as good
     * as scanning every instance, and it never herds every caller onto the one instance that just went idle.
     */
    final class LeastOutstanding implements Balancer {

        private final IntUnaryOperator outstanding;
        private final RandomGenerator random;

        LeastOutstanding(IntUnaryOperator outstanding, RandomGenerator random) {
            this.outstanding = outstanding;
            this.random = random;
        }

        @Override
        public Instance pick(List<Instance> candidates, Exchange exchange) {
            int size = candidates.size();
            if (size == 1) {
                return candidates.getFirst();
            }
            int first = random.nextInt(size);
            // A second draw among the others, so the two choices are distinct.
            int second = (first + 1 + random.nextInt(size - 1)) % size;
            Instance a = candidates.get(first);
            Instance b = candidates.get(second);
            return outstanding.applyAsInt(b.index()) < outstanding.applyAsInt(a.index()) ? b : a;
        }
    }

    /** The instance that owns the request's key on the hash ring; {@code fallback} for a request without a key. */
    final class ConsistentHash implements Balancer {

        private final HashRing ring;
        private final HashKey key;
        private final Balancer fallback;

        ConsistentHash(HashRing ring, HashKey key, Balancer fallback) {
            this.ring = ring;
            this.key = key;
            this.fallback = fallback;
        }

        @Override
        public Instance pick(List<Instance> candidates, Exchange exchange) {
            String value = key == null ? null : key.of(exchange);
            return value == null ? fallback.pick(candidates, exchange) : ring.owner(value, candidates);
        }
    }
}
