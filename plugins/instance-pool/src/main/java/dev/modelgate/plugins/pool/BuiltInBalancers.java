package dev.modelgate.plugins.pool;

import dev.modelgate.spi.Exchange;
import dev.modelgate.spi.balancer.Balancer;
import dev.modelgate.spi.balancer.Endpoint;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.ToIntFunction;
import java.util.random.RandomGenerator;

/**
 * The balancers built into the gateway, each registered by its own provider ({@link RoundRobinProvider},
 * {@link WeightedProvider}, {@link LeastOutstandingProvider}, {@link ConsistentHashProvider}).
 *
 * <p>Thread-safety: each is called concurrently from many virtual threads and never blocks.
 */
public final class BuiltInBalancers {

    private BuiltInBalancers() {
    }

    /** Each candidate in turn. */
    static final class RoundRobin implements Balancer {

        private final AtomicInteger next = new AtomicInteger();

        @Override
        public <E extends Endpoint> E pick(List<E> candidates, Exchange exchange) {
            return candidates.get(Math.floorMod(next.getAndIncrement(), candidates.size()));
        }
    }

    /**
     * nginx's smooth weighted round robin: over any run of picks among the same candidates, each gets exactly its
     * share of the total weight, interleaved ({@code a a b a a} rather than {@code a a a a b}). Canary and gray
     * release by percentage are this with weights such as 90 and 10.
     */
    public static final class SmoothWeighted implements Balancer {

        private final ReentrantLock lock = new ReentrantLock();
        /** By instance index; guarded by {@link #lock}. */
        private final long[] current;

        /** @param instances how many instances there are: the candidates' indexes are below it */
        public SmoothWeighted(int instances) {
            current = new long[instances];
        }

        @Override
        public <E extends Endpoint> E pick(List<E> candidates, Exchange exchange) {
            lock.lock();
            try {
                long total = 0;
                E best = null;
                for (E candidate : candidates) {
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
    static final class LeastOutstanding implements Balancer {

        private final ToIntFunction<Endpoint> outstanding;
        private final RandomGenerator random;

        LeastOutstanding(ToIntFunction<Endpoint> outstanding, RandomGenerator random) {
            this.outstanding = outstanding;
            this.random = random;
        }

        @Override
        public <E extends Endpoint> E pick(List<E> candidates, Exchange exchange) {
            int size = candidates.size();
            if (size == 1) {
                return candidates.getFirst();
            }
            int first = random.nextInt(size);
            // A second draw among the others, so the two choices are distinct.
            int second = (first + 1 + random.nextInt(size - 1)) % size;
            E a = candidates.get(first);
            E b = candidates.get(second);
            return outstanding.applyAsInt(b) < outstanding.applyAsInt(a) ? b : a;
        }
    }

    /** The instance that owns the request's key on the hash ring; {@code fallback} for a request without a key. */
    static final class ConsistentHash implements Balancer {

        private final HashRing ring;
        private final HashKey key;
        private final Balancer fallback;

        ConsistentHash(HashRing ring, HashKey key, Balancer fallback) {
            this.ring = ring;
            this.key = key;
            this.fallback = fallback;
        }

        @Override
        public <E extends Endpoint> E pick(List<E> candidates, Exchange exchange) {
            String value = key == null ? null : key.of(exchange);
            return value == null ? fallback.pick(candidates, exchange) : ring.owner(value, candidates);
        }
    }
}
