package dev.modelgate.spi.inference;

import dev.modelgate.spi.Backend;
import dev.modelgate.spi.BackendException;
import dev.modelgate.spi.Exchange;
import dev.modelgate.spi.RejectionException;

/**
 * A backend that takes decoded requests: an in-process model, or an adapter that encodes the request in its model
 * server's dialect. Every front reaches it, whatever dialect and media type the client speaks.
 *
 * <p>Called concurrently from many virtual threads; calls may block.
 */
public interface InferenceBackend extends Backend {

    /**
     * Runs one inference.
     *
     * @param exchange the client's request, for its deadline, headers and attributes
     * @throws RejectionException when the request does not fit the model (a code of domain 2, such as
     *     {@link dev.modelgate.spi.CoreErrors#INPUT_MISMATCH}); the client gets it in its own protocol's shape
     * @throws BackendException when no answer could be had
     */
    InferenceResponse infer(InferenceRequest request, Exchange exchange) throws BackendException;
}
