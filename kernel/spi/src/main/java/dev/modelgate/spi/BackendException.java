package dev.modelgate.spi;

/**
 * Thrown by a {@link Backend} when the call did not produce a response. The kernel maps each kind to its code:
 * {@link Kind#UNAVAILABLE} to {@link CoreErrors#BACKEND_UNAVAILABLE}, {@link Kind#TIMEOUT} to
 * {@link CoreErrors#BACKEND_TIMEOUT}, {@link Kind#PROTOCOL} to {@link CoreErrors#BACKEND_BAD_RESPONSE}.
 */
public final class BackendException extends Exception {

    /** Why the call failed. */
    public enum Kind {
        /** The backend could not be reached: connection refused, no route, pool exhausted. */
        UNAVAILABLE,
        /** The backend was reached but did not answer in time. */
        TIMEOUT,
        /** The backend answered something the adapter cannot read. */
        PROTOCOL
    }

    private final Kind kind;

    public BackendException(Kind kind, String message, Throwable cause) {
        super(message, cause);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }
}
