package dev.modelgate.spi;

/**
 * One step of a backend's own filter chain ({@code backends.NAME.filters} in the configuration), in the spirit of
 * grpc-java's {@code ClientInterceptor}: behaviour that belongs to a backend rather than a route (circuit breaking, a
 * concurrency cap, retries, batching), shared by every route to it.
 *
 * <p>Called on the request's virtual thread, after the route's middlewares and, on the inference path, after the
 * request was decoded: blocking is fine. One instance serves every call to its backend, so it must be thread-safe.
 * What must last until the client has the whole answer (a bulkhead's place while a stream is written) is released
 * from {@link Exchange#onComplete}. A rejection is a returned value; an exception is a bug the kernel reports as an
 * internal error naming the filter.
 */
@FunctionalInterface
public interface BackendFilter {

    BackendResult filter(BackendCall call, BackendChain chain) throws Exception;
}
