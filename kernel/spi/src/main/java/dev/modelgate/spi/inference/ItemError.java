package dev.modelgate.spi.inference;

import dev.modelgate.spi.ErrorCode;

/**
 * One item of an answer that failed while the others succeeded: an entry along the first dimension of the request's
 * inputs (an instance of an explicit batch, or a row a batcher merged) that the backend could not answer. The outputs
 * keep every item's row, so that their shapes stay whole; a failed item's row holds nothing meaningful.
 *
 * <p>How a backend says an item failed is its adapter's business: a KServe v2 answer's {@code item_errors} (see the
 * README's batching section), or the ONNX backend's run of each item alone after a failed run of several. TensorFlow
 * Serving's answer has no way to say it.
 *
 * @param index the item's position along the first dimension, from 0
 * @param error the gateway's code for the item's failure
 * @param message client-safe detail, without the code's summary; may be {@code null}
 */
public record ItemError(int index, ErrorCode error, String message) {

    public ItemError {
        if (index < 0) {
            throw new IllegalArgumentException("an item index must not be negative, but was " + index);
        }
        java.util.Objects.requireNonNull(error, "error");
    }

    /** The same failure at another index: the item's place in a split or merged answer. */
    public ItemError at(int newIndex) {
        return new ItemError(newIndex, error, message);
    }
}
