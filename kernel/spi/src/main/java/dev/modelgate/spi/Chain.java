package dev.modelgate.spi;

/**
 * The rest of the pipeline, as seen by one middleware.
 *
 * <p>The kernel checks the contract: {@link #proceed()} may be called at most once per middleware invocation, unless
 * the middleware's provider {@linkplain MiddlewareProvider#repeatsProceed() repeats proceed}. It never throws:
 * whatever fails further down comes back as an error response with a code.
 */
public interface Chain {

    Exchange exchange();

    /** Runs the next middleware, or the backend after the last one, and returns its response. */
    Response proceed();
}
