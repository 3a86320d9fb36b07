package dev.modelgate.plugins.pool;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** The priority load against the tables of Envoy's documentation (levels of 100 instances, so counts are percents). */
class PriorityLoadTest {

    private static int[] loads(int... availablePercents) {
        int[] total = new int[availablePercents.length];
        java.util.Arrays.fill(total, 100);
        return PriorityLoad.loads(availablePercents, total);
    }

    @Test
    void theHighestLevelKeepsEverythingWhileOverprovisioningCoversItsLosses() {
        assertArrayEquals(new int[] {100, 0}, loads(100, 100));
        assertArrayEquals(new int[] {100, 0}, loads(72, 100));
        assertArrayEquals(new int[] {99, 1}, loads(71, 100));
    }

    @Test
    void aLevelShedsInProportionToItsLostHealth() {
        assertArrayEquals(new int[] {70, 30}, loads(50, 100));
        assertArrayEquals(new int[] {35, 65}, loads(25, 100));
        assertArrayEquals(new int[] {0, 100}, loads(0, 100));
    }

    @Test
    void whenTheLevelsTogetherAreShortOfHealthTheirSharesAreNormalised() {
        assertArrayEquals(new int[] {70, 30}, loads(50, 50));
        assertArrayEquals(new int[] {50, 50}, loads(25, 25));
    }

    @Test
    void aThirdLevelTakesWhatTheTwoAboveCannot() {
        assertArrayEquals(new int[] {100, 0, 0}, loads(72, 72, 100));
        assertArrayEquals(new int[] {99, 1, 0}, loads(71, 71, 100));
        assertArrayEquals(new int[] {35, 65, 0}, loads(25, 100, 100));
        assertArrayEquals(new int[] {35, 35, 30}, loads(25, 25, 100));
    }

    @Test
    void withNoHealthAnywhereTheHighestLevelTakesEverything() {
        assertArrayEquals(new int[] {100, 0, 0}, loads(0, 0, 0));
    }

    @Test
    void requestsFollowTheLoadsClosely() {
        PriorityLoad load = new PriorityLoad();
        int[] loads = {70, 30};
        for (int window = 0; window < 20; window++) {
            int first = 0;
            for (int request = 0; request < 100; request++) {
                if (load.level(loads) == 0) {
                    first++;
                }
            }
            assertEquals(70, first, 2, "every run of 100 requests gives the first level its 70 to within 2");
        }
    }

    @Test
    void aLevelWithoutLoadGetsNoRequest() {
        PriorityLoad load = new PriorityLoad();
        for (int request = 0; request < 1000; request++) {
            assertEquals(1, load.level(new int[] {0, 100, 0}));
        }
    }
}
