package dev.modelgate.kernel.upstream;

import dev.modelgate.spi.upstream.UpstreamException;

/** Where a call puts a streamed body as it reads it, on the call's IO thread: its reader's stream or its listener. */
interface AnswerSink {

    /** A chunk of the body; whether reading may go on ({@code false} pauses it until the reader catches up). */
    boolean offer(byte[] chunk);

    /** The body's last byte came. */
    void end();

    /** The call failed before the body's end. */
    void fail(UpstreamException e);
}
