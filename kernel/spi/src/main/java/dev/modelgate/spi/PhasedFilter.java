package dev.modelgate.spi;

/**
 * A backend filter whose work comes before and after the call, never around it: the {@link PhasedMiddleware} of a
 * backend's filter chain (a circuit breaker's permit, then its verdict). See there for when the kernel runs the two
 * phases on an IO thread; both must never block.
 */
public interface PhasedFilter extends BackendFilter {

    /**
     * Runs before the rest of the chain.
     *
     * @return {@code null} to go on, or the result to end the chain with (the backend is not called, and
     *     {@link #after} does not run)
     */
    BackendResult before(BackendCall call) throws Exception;

    /**
     * Runs after the rest of the chain, with its result, once for each {@link #before} that returned {@code null};
     * returns the result to pass up (never {@code null}).
     */
    default BackendResult after(BackendCall call, BackendResult result) throws Exception {
        return result;
    }

    @Override
    default BackendResult filter(BackendCall call, BackendChain chain) throws Exception {
        BackendResult early = before(call);
        return early != null ? early : after(call, chain.proceed(call));
    }
}
