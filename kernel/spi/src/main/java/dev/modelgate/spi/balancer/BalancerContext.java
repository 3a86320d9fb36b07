package dev.modelgate.spi.balancer;

import java.util.List;
import java.util.random.RandomGenerator;

/** What a balancer is built with: its backend's instances and the live state it may balance on. */
public interface BalancerContext {

    /** The backend's configured name, for metric labels and messages. */
    String backend();

    /** Every instance of the backend, in configuration order ({@link Endpoint#index()} is the position here). */
    List<? extends Endpoint> endpoints();

    /** Calls to {@code endpoint} under way now (a streamed answer's until its stream ends); lock-free. */
    int inFlight(Endpoint endpoint);

    /** The randomness to balance with: thread-safe, seeded in tests. */
    RandomGenerator random();
}
