package dev.modelgate.kernel.upstream;

import dev.modelgate.spi.upstream.ChunkListener;
import dev.modelgate.spi.upstream.UpstreamException;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.xnio.XnioExecutor;

/**
 * A streamed body pushed to its listener on the call's IO thread, with an idle check on that thread's timer: a server
 * that sends nothing for the idle time, while the listener is not holding reads back, fails the call as
 * {@link UpstreamException.Kind#STALLED}. The check is due when the stream could first have stalled and moves on while
 * it has not, rather than being re-armed for each chunk. Used on the call's thread only.
 */
final class AnswerPush implements AnswerSink {

    private final UpstreamCall call;
    private final ChunkListener listener;
    private final long idleNanos;
    private long lastNanos = System.nanoTime();
    /** Whether the listener stopped the reading: waiting for it is not the server's silence. */
    private boolean holding;
    private boolean over;
    private XnioExecutor.Key check;

    AnswerPush(UpstreamCall call, ChunkListener listener, Duration idleTimeout) {
        this.call = call;
        this.listener = listener;
        this.idleNanos = Math.max(1, idleTimeout.toNanos());
        this.check = call.thread.executeAfter(this::check, idleNanos, TimeUnit.NANOSECONDS);
    }

    @Override
    public boolean offer(byte[] chunk) {
        lastNanos = System.nanoTime();
        holding = !listener.onChunk(chunk);
        return !holding;
    }

    @Override
    public void end() {
        stop();
        listener.onEnd();
    }

    @Override
    public void fail(UpstreamException e) {
        stop();
        listener.onFailure(e);
    }

    /** The listener takes more: its silence from now on is the server's. On the call's thread. */
    void resumed() {
        holding = false;
        lastNanos = System.nanoTime();
    }

    /** Ends the idle check: the body ended, or its reader let it go. On the call's thread. */
    void stop() {
        over = true;
        if (check != null) {
            check.remove();
            check = null;
        }
    }

    private void check() {
        check = null;
        if (over) {
            return;
        }
        long quiet = holding ? 0 : System.nanoTime() - lastNanos;
        if (quiet >= idleNanos) {
            call.fail(UpstreamException.Kind.STALLED, "the server sent nothing for "
                    + Duration.ofNanos(idleNanos), null);
            return;
        }
        check = call.thread.executeAfter(this::check, idleNanos - quiet, TimeUnit.NANOSECONDS);
    }
}
