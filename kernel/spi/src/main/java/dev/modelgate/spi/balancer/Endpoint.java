package dev.modelgate.spi.balancer;

import java.net.URI;
import java.util.Map;

/**
 * One configured instance of a remote backend, as a balancer sees it: its configuration, not its state. Compare
 * endpoints by {@link #index()}; per-instance state a balancer keeps belongs in arrays indexed by it.
 *
 * <p>Immutable and thread-safe.
 */
public interface Endpoint {

    /** Its position in the backend's {@code instances} list, from 0: stable for the backend's life. */
    int index();

    /** How rules, logs and metrics name it: its configured {@code name}, else {@code host:port}. */
    String name();

    URI url();

    /** Its configured {@code weight}; 1 unless the balancer {@link BalancerProvider#readsWeights() reads weights}. */
    int weight();

    /** Its configured {@code locality} (a region, zone or cluster), or {@code ""} when it has none. */
    String locality();

    /** Its priority level: 0 is the highest, where traffic goes while enough of it is healthy. */
    int priority();

    /** Its configured {@code labels}, free-form key-value pairs for balancers to match requests on. */
    Map<String, String> labels();
}
