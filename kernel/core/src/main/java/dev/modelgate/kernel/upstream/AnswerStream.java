package dev.modelgate.kernel.upstream;

import dev.modelgate.spi.upstream.ChunkListener;
import dev.modelgate.spi.upstream.StreamedBody;
import dev.modelgate.spi.upstream.UpstreamException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Objects;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A streamed answer's body for a reader that blocks (a virtual thread), fed by the call's IO thread with the chunks
 * it reads. Backpressure: once {@link #PAUSE_BYTES} wait unread, the IO thread stops reading from the server (the
 * server's sends then fill TCP's window and stop); it reads on when the reader has taken half of them.
 *
 * <p>Or, {@link #push pushed}: the call then hands its chunks to an {@link AnswerPush} instead, this stream's queue
 * first, and the stream is done with.
 */
final class AnswerStream extends StreamedBody implements AnswerSink {

    /** Bytes queued for the reader at which reading from the server pauses. */
    static final int PAUSE_BYTES = 64 * 1024;

    private final UpstreamCall call;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final ArrayDeque<byte[]> chunks = new ArrayDeque<>();
    private int queued;
    private boolean paused;
    private byte[] current;
    private int position;
    private boolean ended;
    private UpstreamException failure;
    private boolean closed;
    /** The push form it was handed over to, set on the call's thread; {@code null} while it is read. */
    private volatile AnswerPush pushed;

    AnswerStream(UpstreamCall call) {
        this.call = call;
    }

    @Override
    public void push(ChunkListener listener, Duration idleTimeout) {
        call.onThread(() -> {
            AnswerPush push = new AnswerPush(call, listener, idleTimeout);
            pushed = push;
            call.handOver(push, handOver(push));
        });
    }

    @Override
    public void resume() {
        AnswerPush push = pushed;
        if (push != null) {
            call.onThread(() -> {
                push.resumed();
                call.readerCaughtUp();
            });
        }
    }

    /**
     * Gives what the stream holds to {@code push}, which takes the call's chunks from now on; whether it takes more.
     * On the call's thread.
     */
    private boolean handOver(AnswerPush push) {
        ArrayDeque<byte[]> queue;
        boolean over;
        UpstreamException failed;
        lock.lock();
        try {
            if (current != null) {
                throw new IllegalStateException("a body that was read cannot be pushed");
            }
            queue = new ArrayDeque<>(chunks);
            chunks.clear();
            queued = 0;
            over = ended;
            failed = failure;
            closed = true;
        } finally {
            lock.unlock();
        }
        boolean more = true;
        for (byte[] chunk : queue) {
            more = push.offer(chunk);
        }
        if (failed != null) {
            push.fail(failed);
        } else if (over) {
            push.end();
        }
        return more;
    }

    /** Queues a chunk from the IO thread; whether the reader's queue has room for more. */
    @Override
    public boolean offer(byte[] chunk) {
        lock.lock();
        try {
            chunks.add(chunk);
            queued += chunk.length;
            paused = queued >= PAUSE_BYTES;
            changed.signalAll();
            return !paused;
        } finally {
            lock.unlock();
        }
    }

    /** The body's last byte came. */
    @Override
    public void end() {
        lock.lock();
        try {
            ended = true;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** The call failed: the reader gets {@code e} once it has read what came before. */
    @Override
    public void fail(UpstreamException e) {
        lock.lock();
        try {
            failure = e;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] into, int offset, int length) throws IOException {
        Objects.checkFromIndexSize(offset, length, into.length);
        if (length == 0) {
            return 0;
        }
        boolean caughtUp = false;
        int count;
        lock.lock();
        try {
            while (current == null || position == current.length) {
                if (closed) {
                    throw new IOException("the answer's stream is closed");
                }
                byte[] next = chunks.poll();
                if (next != null) {
                    current = next;
                    position = 0;
                    queued -= next.length;
                    if (paused && queued < PAUSE_BYTES / 2) {
                        paused = false;
                        caughtUp = true;
                    }
                } else if (failure != null) {
                    throw failure;
                } else if (ended) {
                    return -1;
                } else {
                    changed.await();
                }
            }
            count = Math.min(length, current.length - position);
            System.arraycopy(current, position, into, offset, count);
            position += count;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while waiting for the answer");
        } finally {
            lock.unlock();
        }
        if (caughtUp) {
            call.readerCaughtUp();
        }
        return count;
    }

    @Override
    public int available() {
        lock.lock();
        try {
            return (current == null ? 0 : current.length - position) + queued;
        } finally {
            lock.unlock();
        }
    }

    /** Before the body's end, drops the connection: nothing is drained. Any thread may close it. */
    @Override
    public void close() {
        AnswerPush push = pushed;
        if (push != null) {
            // Its end is the call's to tell: dropped if it has not come, and its idle check with it.
            call.onThread(push::stop);
            call.readerClosed();
            return;
        }
        boolean early;
        lock.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            early = !ended && failure == null;
            chunks.clear();
            current = null;
            // A reader blocked on another thread fails now rather than wait for a chunk that will not come.
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        if (early) {
            call.readerClosed();
        }
    }
}
