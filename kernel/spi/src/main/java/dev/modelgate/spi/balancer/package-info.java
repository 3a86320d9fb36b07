/**
 * Load-balancing policies as plugins: a {@link dev.modelgate.spi.balancer.BalancerProvider} builds the
 * {@link dev.modelgate.spi.balancer.Balancer} that chooses, for each call of a remote backend ({@code http},
 * {@code grpc}), one of the instances ({@link dev.modelgate.spi.balancer.Endpoint}s) that may take it. The backend
 * has already narrowed the candidates to the request's pool, to healthy and not ejected instances and to one priority
 * level; the balancer only chooses among them.
 */
package dev.modelgate.spi.balancer;
