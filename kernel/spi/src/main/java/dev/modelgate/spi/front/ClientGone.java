package dev.modelgate.spi.front;

/**
 * How a listener front tells the pipeline that the client of a call went away (cancelled it, or its connection broke)
 * before its answer: what {@link dev.modelgate.spi.Exchange#onClientGone} listeners hear of.
 */
@FunctionalInterface
public interface ClientGone {

    /** For a front that cannot tell: its listeners never run. */
    ClientGone NEVER = listener -> () -> {
    };

    /**
     * Registers {@code listener} to run once, on whatever thread notices, when the client goes away.
     *
     * @return what unregisters it; the pipeline runs it once the call is answered
     */
    Runnable whenGone(Runnable listener);
}
