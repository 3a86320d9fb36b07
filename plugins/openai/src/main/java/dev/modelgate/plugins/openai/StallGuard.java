package dev.modelgate.plugins.openai;

import dev.modelgate.plugins.pool.Watchdogs;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.util.concurrent.ScheduledFuture;

/**
 * An upstream's stream, closed by a watchdog when one read has waited longer than the idle timeout: an upstream that
 * stalls midway must not hold the call, its connection and the client forever. Time spent writing to the client
 * does not count, only waiting for the upstream.
 *
 * <p>The watchdog is a check on the remote backends' shared timer ({@link Watchdogs}), due when the stream could
 * first have stalled and moved on while it has not, rather than a thread of its own per stream: starting one put a
 * second virtual thread on the carriers just as the stream's first event was being read.
 *
 * <p>Threads: read by one thread; the check runs on the timer's thread and closes a stalled stream there (closing an
 * upstream pool's stream never waits: the reader's read fails at once, and the connection is dropped by its IO
 * thread); {@link #close} cancels it.
 */
final class StallGuard extends FilterInputStream {

    private static final long NOT_READING = Long.MIN_VALUE;

    private final long idleNanos;
    private volatile long readingSince = NOT_READING;
    private volatile boolean stalled;
    private volatile boolean closed;
    private volatile ScheduledFuture<?> check;

    StallGuard(InputStream upstream, Duration idleTimeout) {
        super(upstream);
        this.idleNanos = idleTimeout.toNanos();
        this.check = Watchdogs.schedule(this::check, idleNanos);
    }

    /** Whether the watchdog closed the stream because the upstream sent nothing within the idle timeout. */
    boolean stalled() {
        return stalled;
    }

    private void check() {
        if (closed) {
            return;
        }
        long since = readingSince;
        long waited = since == NOT_READING ? 0 : System.nanoTime() - since;
        if (waited >= idleNanos) {
            stalled = true;
            closeUpstream();
            return;
        }
        check = Watchdogs.schedule(this::check, idleNanos - waited);
        if (closed) {
            check.cancel(false);
        }
    }

    private void closeUpstream() {
        try {
            in.close();
        } catch (IOException e) {
            // closing failed: the reader's own read fails or ends anyway
        }
    }

    @Override
    public int read() throws IOException {
        readingSince = System.nanoTime();
        try {
            return super.read();
        } finally {
            readingSince = NOT_READING;
        }
    }

    @Override
    public int read(byte[] buffer, int offset, int length) throws IOException {
        readingSince = System.nanoTime();
        try {
            return super.read(buffer, offset, length);
        } finally {
            readingSince = NOT_READING;
        }
    }

    @Override
    public void close() throws IOException {
        closed = true;
        check.cancel(false);
        super.close();
    }
}
