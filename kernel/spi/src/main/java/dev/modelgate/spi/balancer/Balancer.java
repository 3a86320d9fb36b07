package dev.modelgate.spi.balancer;

import dev.modelgate.spi.Exchange;
import java.util.List;

/**
 * Chooses the instance for one call of a backend, among candidates the backend has narrowed already: those of the
 * request's pool (its routing rule's, else the default instances) that are healthy and not ejected, of the priority
 * level the request was given, and not yet tried by this request when any are left.
 *
 * <p>Thread-safety: called concurrently from many virtual threads, for every call of the backend: never block.
 */
@FunctionalInterface
public interface Balancer {

    /**
     * One of {@code candidates}, for {@code exchange}.
     *
     * @param candidates never empty, in configuration order
     * @param exchange the request: headers, principal, client address; never written to here
     * @return an element of {@code candidates}
     */
    <E extends Endpoint> E pick(List<E> candidates, Exchange exchange);
}
