package dev.modelgate.spi.upstream;

import java.io.IOException;

/** Why a call failed, as a proxy needs to tell it: whether the request reached the server, and whose fault it was. */
public final class UpstreamException extends IOException {

    /** What went wrong. */
    public enum Kind {
        /** No connection could be made: refused, unreachable, unknown host, or connecting took too long. */
        CONNECT_FAILED,
        /** Every connection of the pool stayed in use for the pool timeout: nothing was sent. */
        POOL_EXHAUSTED,
        /**
         * A kept-alive connection turned out closed by the server before any answer: the request was likely not
         * taken. A GET or HEAD is sent once more on another connection before a call fails so.
         */
        STALE_CONNECTION,
        /** The call's time ran out. */
        TIMED_OUT,
        /** The answer is not HTTP/1.1 as it must be (bad status line, headers or chunk framing). */
        MALFORMED,
        /** The connection broke after the request was sent: reset, or closed before the whole answer came. */
        BROKEN,
        /** The answer's body is longer than the call's {@code maxResponseBytes}. */
        TOO_LARGE,
        /** The pool was closed. */
        CLOSED,
        /** A pushed body's server sent nothing for the idle time its listener allowed ({@link StreamedBody#push}). */
        STALLED
    }

    private final Kind kind;

    public UpstreamException(Kind kind, String message, Throwable cause) {
        super(message, cause);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }
}
