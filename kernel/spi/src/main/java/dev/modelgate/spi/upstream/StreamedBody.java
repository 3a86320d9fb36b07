package dev.modelgate.spi.upstream;

import java.io.InputStream;
import java.time.Duration;

/**
 * A streamed answer's body, taken one of two ways: read as a blocking stream (never on an IO thread), or pushed to a
 * {@link ChunkListener} on the call's IO thread as it arrives ({@link #push}), which costs no thread and no hand-off.
 * Closing it before its end drops the connection; at its end the connection goes back to the pool.
 */
public abstract class StreamedBody extends InputStream {

    /**
     * Takes the body pushed to {@code listener} from now on, what has come already first; called before any read.
     * Should the server send nothing for {@code idleTimeout} while the listener is not holding reads back, the call
     * fails with {@link UpstreamException.Kind#STALLED}. Any thread.
     */
    public abstract void push(ChunkListener listener, Duration idleTimeout);

    /** The listener that stopped the reading ({@link ChunkListener#onChunk} answered {@code false}) takes more. Any thread. */
    public abstract void resume();
}
