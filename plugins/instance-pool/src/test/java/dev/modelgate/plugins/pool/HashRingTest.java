package dev.modelgate.plugins.pool;

import static dev.modelgate.plugins.pool.BalancerTest.instance;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class HashRingTest {

    private static final int KEYS = 20_000;

    private final List<Instance> four = IntStream.range(0, 4).mapToObj(i -> instance(i, "model-" + i, 1)).toList();

    private static Map<String, String> owners(HashRing ring, List<Instance> candidates) {
        Map<String, String> owners = new HashMap<>();
        for (int key = 0; key < KEYS; key++) {
            owners.put("user-" + key, ring.owner("user-" + key, candidates).name());
        }
        return owners;
    }

    @Test
    void aKeyAlwaysBelongsToTheSameInstance() {
        HashRing ring = new HashRing(four);

        assertEquals(ring.owner("alice", four), ring.owner("alice", four));
        assertEquals(ring.owner("alice", four), new HashRing(four).owner("alice", four));
    }

    @Test
    void keysSpreadNearlyEvenly() {
        Map<String, String> owners = owners(new HashRing(four), four);

        for (Instance instance : four) {
            long share = owners.values().stream().filter(instance.name()::equals).count();
            assertEquals(KEYS / 4.0, share, KEYS * 0.06, instance.name() + " owns " + share);
        }
    }

    @Test
    void removingAnInstanceMovesOnlyTheKeysItOwned() {
        Map<String, String> before = owners(new HashRing(four), four);
        List<Instance> three = four.subList(0, 3);

        Map<String, String> after = owners(new HashRing(three), three);

        long moved = before.keySet().stream().filter(key -> !before.get(key).equals(after.get(key))).count();
        before.forEach((key, owner) -> assertTrue(owner.equals("model-3") || owner.equals(after.get(key)),
                key + " moved from " + owner + " to " + after.get(key)));
        assertEquals(KEYS / 4.0, moved, KEYS * 0.06, moved + " keys moved");
    }

    @Test
    void anUnavailableInstanceIsSkippedAsIfRemoved() {
        HashRing ring = new HashRing(four);
        List<Instance> three = four.subList(0, 3);

        assertEquals(owners(new HashRing(three), three), owners(ring, three));
    }
}
