package dev.modelgate.spi;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.util.ArrayDeque;
import java.util.Arrays;

/**
 * A streaming body written without blocking: its source pushes the bytes to a {@link Sink} as they come (an upstream's
 * events, read by an IO thread), and the kernel writes them to the client on the exchange's IO thread, with no thread
 * of its own per answer. Backpressure both ways: when the client's connection takes less than was written, the sink
 * keeps the rest and says so, the body stops its source (an upstream call stops reading, and TCP stops the upstream),
 * and {@link #resume} tells it to go on once the client has taken it all.
 *
 * <p>{@link #writeTo} (a blocking writer, {@link #bytes()}) works too, through a bounded queue the calling thread
 * drains.
 */
public interface PushBody extends Body {

    /**
     * Starts the body: from now on it writes to {@code sink}, from one thread at a time (its source's). Called once,
     * instead of {@link #writeTo}.
     */
    void start(Sink sink);

    /** The client's connection took everything written: the body's source may go on. From any thread. */
    void resume();

    /**
     * The answer ends before the body did (the client went away, a write failed): the body releases its source at
     * once and writes nothing more. From any thread; may come after the body ended.
     */
    void cancel();

    @Override
    default long length() {
        return -1;
    }

    /** Writes the body to {@code out}, blocking the calling thread until it ends. */
    @Override
    default void writeTo(OutputStream out) throws IOException {
        new BlockingSink(this).drainTo(out);
    }

    /** Where a pushed body writes. */
    interface Sink {

        /**
         * Writes bytes, not flushed yet; whether the client's connection took them all. When not, the sink keeps the
         * rest (and anything written after) and the body should stop its source until {@link #resume}.
         */
        boolean write(byte[] bytes, int offset, int length);

        /** Sends what was written; whether it all went (else the sink finishes it and calls {@link #resume}). */
        boolean flush();

        /** The body is complete: the answer ends once the client has taken what is kept. */
        void end();

        /**
         * The body's source failed midway and the body told the client so in its own protocol (its last write): the
         * answer ends whole, and the exchange's completion listeners get {@code failure} (see
         * {@link StreamFailedException}).
         */
        void endFailed(StreamFailedException failure);

        /** The body failed without a word to the client: its connection is cut, so it never sees a whole answer. */
        void abort(Throwable failure);
    }

    /** The sink of {@link #writeTo}: a bounded queue filled by the body's thread, drained by the writing one. */
    final class BlockingSink implements Sink {

        /** Bytes queued at which the body is told to wait; it goes on once half of them were written. */
        private static final int PAUSE_BYTES = 64 * 1024;

        private final PushBody body;
        private final ArrayDeque<byte[]> chunks = new ArrayDeque<>();
        private int queued;
        private boolean paused;
        private boolean ended;
        private IOException failure;

        BlockingSink(PushBody body) {
            this.body = body;
        }

        @Override
        public synchronized boolean write(byte[] bytes, int offset, int length) {
            chunks.add(Arrays.copyOfRange(bytes, offset, offset + length));
            queued += length;
            notifyAll();
            paused |= queued >= PAUSE_BYTES;
            return !paused;
        }

        @Override
        public synchronized boolean flush() {
            return !paused;
        }

        @Override
        public synchronized void end() {
            ended = true;
            notifyAll();
        }

        @Override
        public synchronized void endFailed(StreamFailedException failure) {
            this.failure = failure;
            notifyAll();
        }

        @Override
        public synchronized void abort(Throwable failure) {
            this.failure = failure instanceof IOException io ? io : new IOException(failure);
            notifyAll();
        }

        void drainTo(OutputStream out) throws IOException {
            body.start(this);
            try {
                while (true) {
                    byte[] next;
                    boolean caughtUp = false;
                    boolean drained;
                    synchronized (this) {
                        while (chunks.isEmpty() && !ended && failure == null) {
                            wait();
                        }
                        next = chunks.poll();
                        if (next == null) {
                            if (failure != null) {
                                throw failure;
                            }
                            return;
                        }
                        queued -= next.length;
                        if (paused && queued < PAUSE_BYTES / 2) {
                            paused = false;
                            caughtUp = true;
                        }
                        drained = chunks.isEmpty();
                    }
                    out.write(next);
                    if (drained) {
                        // What came is sent as it came, not when a buffer fills.
                        out.flush();
                    }
                    if (caughtUp) {
                        body.resume();
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                body.cancel();
                throw new InterruptedIOException("interrupted while waiting for the body");
            } catch (IOException | RuntimeException e) {
                body.cancel();
                throw e;
            }
        }
    }
}
