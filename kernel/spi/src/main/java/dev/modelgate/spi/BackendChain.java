package dev.modelgate.spi;

/**
 * The rest of a backend's filter chain, as seen by one filter: the next filter, or the backend after the last one.
 * The kernel holds each filter to one {@link #proceed} call unless its provider
 * {@linkplain BackendFilterProvider#repeatsProceed() repeats proceed}. Never throws and never returns {@code null}:
 * failures come back as {@link BackendResult#failed}.
 */
@FunctionalInterface
public interface BackendChain {

    BackendResult proceed(BackendCall call);
}
