package dev.modelgate.plugins.openai;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;

/**
 * An upstream's stream, closed by a watchdog when one read has waited longer than the idle timeout: an upstream that
 * stalls midway must not hold the call, its connection and the client forever. Time spent writing to the client
 * does not count, only waiting for the upstream.
 *
 * <p>Threads: read by one thread; the watchdog, a virtual thread, ends with {@link #close}.
 */
final class StallGuard extends FilterInputStream {

    private static final long NOT_READING = Long.MIN_VALUE;

    private final long idleNanos;
    private final Thread watchdog;
    private volatile long readingSince = NOT_READING;
    private volatile boolean stalled;

    StallGuard(InputStream upstream, Duration idleTimeout) {
        super(upstream);
        this.idleNanos = idleTimeout.toNanos();
        this.watchdog = Thread.ofVirtual().name("openai-stream-watchdog").start(this::watch);
    }

    /** Whether the watchdog closed the stream because the upstream sent nothing within the idle timeout. */
    boolean stalled() {
        return stalled;
    }

    private void watch() {
        try {
            while (true) {
                long since = readingSince;
                long waited = since == NOT_READING ? 0 : System.nanoTime() - since;
                if (waited >= idleNanos) {
                    stalled = true;
                    in.close();
                    return;
                }
                Thread.sleep(Duration.ofNanos(idleNanos - waited));
            }
        } catch (InterruptedException e) {
            // the stream ended
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
        watchdog.interrupt();
        super.close();
    }
}
