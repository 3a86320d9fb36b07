package dev.modelgate.plugins.pool;

import dev.modelgate.spi.balancer.Endpoint;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;

/**
 * A consistent-hash ring (ketama style): each instance owns {@link #POINTS_PER_INSTANCE} points placed by hashing its
 * name, and a key belongs to the first point at or after the key's hash whose instance is a candidate. Points depend
 * on names only, so taking an instance out (unhealthy, ejected, removed from the configuration) moves only the keys
 * it owned, and they spread over the others.
 *
 * <p>Immutable and thread-safe.
 */
final class HashRing {

    /** Enough points that each instance's share of keys is within a few percent of even. */
    static final int POINTS_PER_INSTANCE = 160;

    private final long[] points;
    /** The instance index owning {@code points[i]}. */
    private final int[] owners;
    private final int instances;

    HashRing(List<? extends Endpoint> instances) {
        this.instances = instances.stream().mapToInt(Endpoint::index).max().orElse(-1) + 1;
        long[][] entries = new long[instances.size() * POINTS_PER_INSTANCE][];
        int next = 0;
        for (Endpoint instance : instances) {
            for (int point = 0; point < POINTS_PER_INSTANCE; point++) {
                entries[next++] = new long[] {hash(instance.name() + "#" + point), instance.index()};
            }
        }
        // Ties (vanishingly rare with 64 bits) go to the lower index, so every ring over the same names agrees.
        Arrays.sort(entries, (x, y) -> x[0] != y[0] ? Long.compare(x[0], y[0]) : Long.compare(x[1], y[1]));
        points = new long[entries.length];
        owners = new int[entries.length];
        for (int i = 0; i < entries.length; i++) {
            points[i] = entries[i][0];
            owners[i] = (int) entries[i][1];
        }
    }

    /** The candidate owning {@code key}: the first candidate's point clockwise from the key's hash. */
    <E extends Endpoint> E owner(String key, List<E> candidates) {
        List<E> byIndex = new ArrayList<>(Collections.nCopies(instances, null));
        candidates.forEach(candidate -> byIndex.set(candidate.index(), candidate));
        int start = Arrays.binarySearch(points, hash(key));
        if (start < 0) {
            start = -start - 1;
        }
        for (int step = 0; step < points.length; step++) {
            E owner = byIndex.get(owners[(start + step) % points.length]);
            if (owner != null) {
                return owner;
            }
        }
        // Candidates the ring does not hold: none in practice, as the ring holds every instance.
        return candidates.getFirst();
    }

    /** FNV-1a over the UTF-8 bytes, then SplitMix64's finaliser, which spreads FNV's weak low bits. */
    static long hash(String text) {
        long hash = 0xcbf29ce484222325L;
        for (byte b : text.getBytes(StandardCharsets.UTF_8)) {
            hash ^= b & 0xff;
            hash *= 0x100000001b3L;
        }
        hash = (hash ^ (hash >>> 30)) * 0xbf58476d1ce4e5b9L;
        hash = (hash ^ (hash >>> 27)) * 0x94d049bb133111ebL;
        return hash ^ (hash >>> 31);
    }
}
