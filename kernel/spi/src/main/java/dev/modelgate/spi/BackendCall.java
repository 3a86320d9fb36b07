package dev.modelgate.spi;

import dev.modelgate.spi.inference.InferenceRequest;

/**
 * One call to a backend as its filters see it: on the proxy path the client's bytes ({@code request} is
 * {@code null}), on the inference path the decoded request.
 *
 * @param exchange the client's request: deadline, headers, attributes, {@link Exchange#onComplete completion}
 * @param backendName the configured name of the backend called
 * @param request the decoded request on the inference path, {@code null} on the proxy path
 */
public record BackendCall(Exchange exchange, String backendName, InferenceRequest request) {

    /**
     * How many client requests rode in the backend call that served this exchange, set by a filter that merges them
     * (batching); absent when the call served one request alone. The access log records it.
     */
    public static final Attribute<Integer> BATCH_SIZE = Attribute.named("batch-size");

    /** Whether the call forwards the client's bytes rather than a decoded request. */
    public boolean isProxy() {
        return request == null;
    }

    /** The same call with another decoded request (a batch, say). */
    public BackendCall withRequest(InferenceRequest newRequest) {
        return new BackendCall(exchange, backendName, newRequest);
    }
}
