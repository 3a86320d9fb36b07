package dev.modelgate.kernel;

import dev.modelgate.spi.ErrorCode;

/**
 * A request refused before it is routed, as a value: each front renders it in its own error shape.
 *
 * @param detail client-safe detail after the code's summary
 */
record Refusal(ErrorCode errorCode, String detail) {
}
