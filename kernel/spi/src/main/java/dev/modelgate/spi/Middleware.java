package dev.modelgate.spi;

/**
 * One step of the request pipeline. {@code conf/gateway.yaml} lists the middlewares of each route in order; each gets
 * the chain and decides whether to call {@link Chain#proceed()}.
 *
 * <p>Called on the request's virtual thread: blocking calls are fine. Called concurrently for many requests, so an
 * implementation must be thread-safe. A rejection is a returned value ({@code exchange.error(...)}), not an exception;
 * an exception or a {@code null} return is a bug the kernel reports as an internal error naming this middleware.
 */
@FunctionalInterface
public interface Middleware {

    Response handle(Exchange exchange, Chain chain) throws Exception;
}
