package dev.modelgate.plugins.pool;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.modelgate.spi.balancer.Balancer;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class BalancerTest {

    static Instance instance(int index, String name, int weight) {
        return new Instance(index, name, URI.create("http://" + name + ".internal:8501/predict"), weight);
    }

    private static List<String> picks(Balancer balancer, List<Instance> candidates, int times) {
        List<String> names = new ArrayList<>();
        for (int i = 0; i < times; i++) {
            names.add(balancer.pick(candidates, null).name());
        }
        return names;
    }

    @Test
    void smoothWeightedRoundRobinInterleavesInsteadOfBunching() {
        List<Instance> instances = List.of(instance(0, "a", 5), instance(1, "b", 1), instance(2, "c", 1));

        // nginx's documented sequence for weights 5, 1, 1.
        assertEquals(List.of("a", "a", "b", "a", "c", "a", "a"),
                picks(new BuiltInBalancers.SmoothWeighted(3), instances, 7));
    }

    @Test
    void smoothWeightedRoundRobinGivesEachItsExactShareOfEveryCycle() {
        List<Instance> instances = List.of(instance(0, "main", 90), instance(1, "canary", 10));

        List<String> picks = picks(new BuiltInBalancers.SmoothWeighted(2), instances, 1000);

        assertEquals(100, picks.stream().filter("canary"::equals).count());
    }

    @Test
    void smoothWeightedRoundRobinBalancesOverWhicheverInstancesAreCandidates() {
        Instance a = instance(0, "a", 3);
        Instance b = instance(1, "b", 1);
        Instance c = instance(2, "c", 1);
        BuiltInBalancers.SmoothWeighted balancer = new BuiltInBalancers.SmoothWeighted(3);

        List<String> withoutA = picks(balancer, List.of(b, c), 10);

        assertEquals(5, withoutA.stream().filter("b"::equals).count());
        assertEquals(List.of("a"), picks(balancer, List.of(a), 1));
    }

    @Test
    void roundRobinTakesEachCandidateInTurn() {
        List<Instance> instances = List.of(instance(0, "a", 1), instance(1, "b", 1), instance(2, "c", 1));

        assertEquals(List.of("a", "b", "c", "a", "b", "c"), picks(new BuiltInBalancers.RoundRobin(), instances, 6));
    }

    @Test
    void leastOutstandingPicksTheLessBusyOfTwoDistinctChoices() {
        List<Instance> instances = IntStream.range(0, 4).mapToObj(i -> instance(i, "i" + i, 1)).toList();
        int[] outstanding = {5, 0, 5, 5};
        Balancer balancer = new BuiltInBalancers.LeastOutstanding(endpoint -> outstanding[endpoint.index()], new SplittableRandom(7));

        long idle = picks(balancer, instances, 1000).stream().filter("i1"::equals).count();

        // The idle instance wins whenever it is one of the two choices: half the draws of two out of four.
        assertEquals(500, idle, 60);
    }

    @Test
    void leastOutstandingWithTwoInstancesAlwaysPicksTheIdleOne() {
        List<Instance> instances = List.of(instance(0, "a", 1), instance(1, "b", 1));
        int[] outstanding = {0, 3};
        Balancer balancer = new BuiltInBalancers.LeastOutstanding(endpoint -> outstanding[endpoint.index()], new SplittableRandom(1));

        assertEquals(List.of("a", "a", "a", "a", "a"), picks(balancer, instances, 5));
    }
}
