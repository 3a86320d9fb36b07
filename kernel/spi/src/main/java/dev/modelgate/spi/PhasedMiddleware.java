package dev.modelgate.spi;

/**
 * A middleware whose work comes before and after the rest of the pipeline, never around it: it checks or marks the
 * request, then looks at (and may replace) the answer, and holds no thread while the backend works. A route whose
 * middlewares and backend filters are all phased, in front of a backend that {@linkplain ProxyBackend#forwardAsync
 * forwards without blocking}, is served on the gateway's IO thread from the first byte to the last, without a
 * virtual thread; on any other route the kernel calls {@link #handle}, which runs the two phases around
 * {@link Chain#proceed()}. Both phases must then never block: no network call, no lock held for long, no sleep.
 *
 * <p>What {@link #before} learns that {@link #after} needs travels on the exchange as an {@link Attribute}. The
 * contract is {@link Middleware}'s: a rejection is a returned response, an exception a bug the kernel reports as an
 * internal error naming the middleware.
 */
public interface PhasedMiddleware extends Middleware {

    /**
     * Runs before the rest of the pipeline.
     *
     * @return {@code null} to go on, or the response to answer with instead (the rest of the pipeline does not run,
     *     and neither does {@link #after})
     */
    Response before(Exchange exchange) throws Exception;

    /**
     * Runs after the rest of the pipeline, with its response, once for each {@link #before} that returned
     * {@code null}; returns the response to pass up (never {@code null}).
     */
    default Response after(Exchange exchange, Response response) throws Exception {
        return response;
    }

    @Override
    default Response handle(Exchange exchange, Chain chain) throws Exception {
        Response early = before(exchange);
        return early != null ? early : after(exchange, chain.proceed());
    }

    /**
     * {@code phased} as a middleware that is not phased, for a configuration in which its phases may block (a JWKS
     * fetch, a rate-limit store over the network): the kernel then runs it around {@link Chain#proceed()} on the
     * request's virtual thread, never on an IO thread. Closing it closes {@code phased} when that is
     * {@link AutoCloseable}.
     */
    static Middleware blocking(PhasedMiddleware phased) {
        final class Blocking implements Middleware, AutoCloseable {

            @Override
            public Response handle(Exchange exchange, Chain chain) throws Exception {
                return phased.handle(exchange, chain);
            }

            @Override
            public void close() throws Exception {
                if (phased instanceof AutoCloseable closeable) {
                    closeable.close();
                }
            }
        }
        return new Blocking();
    }
}
