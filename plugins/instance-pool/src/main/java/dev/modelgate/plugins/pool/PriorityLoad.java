package dev.modelgate.plugins.pool;

import java.util.concurrent.atomic.AtomicLong;

/**
 * How traffic is shared between priority levels, after Envoy's priority levels and overprovisioning factor
 * (https://www.envoyproxy.io/docs/envoy/latest/intro/arch_overview/upstream/load_balancing/priority and
 * .../load_balancing/overprovisioning): a level's health is the percentage of its instances available (healthy and
 * not ejected) times the overprovisioning factor 1.4, capped at 100; the levels take their health in turn until 100
 * is reached. In Envoy's own words:
 *
 * <pre>
 * health(P_X) = min(100, 1.4 * 100 * healthy_P_X_backends / total_P_X_backends)
 * normalized_total_health = min(100, Σ(health(P_0)...health(P_X)))
 * priority_load(P_0) = min(100, health(P_0) * 100 / normalized_total_health)
 * priority_load(P_X) = min(100 - Σ(priority_load(P_0)..priority_load(P_X-1)),
 *                          health(P_X) * 100 / normalized_total_health)
 * </pre>
 *
 * So the highest level keeps all traffic until fewer than about 72% of its instances are available, then sheds in
 * proportion (half its instances left: 70% of the traffic stays, 30% goes to the next level). The integer rounding
 * leaves at most a few percent unassigned; as Envoy does, that goes to the first level with any health. With no
 * health anywhere, the highest level takes everything (and the pool's panic mode serves it).
 *
 * <p>Which level a request goes to follows a golden-ratio (Weyl) sequence rather than a random draw: lock-free, and
 * over any run of requests each level gets its share to within a few requests, interleaved.
 *
 * <p>Thread-safety: {@link #loads} is a pure function; {@link #level} is lock-free.
 */
final class PriorityLoad {

    /** Envoy's default overprovisioning factor, 1.4, in percent. */
    static final int OVERPROVISIONING_PERCENT = 140;

    /** 2^64 divided by the golden ratio: successive multiples of it spread evenly over the 64-bit circle. */
    private static final long GOLDEN_GAMMA = 0x9E3779B97F4A7C15L;

    private final AtomicLong sequence = new AtomicLong();

    /**
     * The percentage of traffic each level takes, summing to 100.
     *
     * @param available by level, highest priority first: its instances available now
     * @param total by level: its instances, at least one each
     */
    static int[] loads(int[] available, int[] total) {
        int levels = total.length;
        int[] health = new int[levels];
        int totalHealth = 0;
        for (int level = 0; level < levels; level++) {
            health[level] = (int) Math.min(100, (long) OVERPROVISIONING_PERCENT * available[level] / total[level]);
            totalHealth += health[level];
        }
        int[] loads = new int[levels];
        if (totalHealth == 0) {
            loads[0] = 100;
            return loads;
        }
        int normalizedTotalHealth = Math.min(100, totalHealth);
        int remaining = 100;
        int firstHealthy = -1;
        for (int level = 0; level < levels; level++) {
            loads[level] = Math.min(remaining, health[level] * 100 / normalizedTotalHealth);
            remaining -= loads[level];
            if (firstHealthy < 0 && health[level] > 0) {
                firstHealthy = level;
            }
        }
        loads[firstHealthy] += remaining;
        return loads;
    }

    /** The level the next request goes to, given the levels' {@code loads} (summing to 100). */
    int level(int[] loads) {
        // The sequence's next point on the 64-bit circle, scaled to [0, 100).
        long point = Math.unsignedMultiplyHigh(sequence.getAndIncrement() * GOLDEN_GAMMA, 100);
        // The level whose share of [0, 100) holds the point.
        int level = 0;
        long bound = loads[0];
        while (point >= bound && level < loads.length - 1) {
            level++;
            bound += loads[level];
        }
        return level;
    }
}
