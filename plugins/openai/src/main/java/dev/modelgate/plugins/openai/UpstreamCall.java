package dev.modelgate.plugins.openai;

import dev.modelgate.plugins.pool.Watchdogs;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.hc.client5.http.classic.methods.HttpUriRequestBase;
import org.apache.hc.core5.http.ClassicHttpResponse;

/**
 * One call to an upstream, in flight: the watchdog that cancels it when its answer has not begun within its time,
 * and the answer's body, whose {@link Body#close close} hands the connection back to the pool after the last byte and
 * drops it otherwise (Apache would drain the rest first, endless for an event stream).
 *
 * <p>Threads: made by the request's thread; the watchdog runs on the shared timer's thread, and the body may be closed
 * from another thread (a stream's stall guard), which only cancels the request: the request's thread, blocked in a
 * read, then fails.
 */
final class UpstreamCall implements Runnable {

    private final HttpUriRequestBase request;
    private final ScheduledFuture<?> watchdog;
    private volatile boolean expired;

    /** Starts the watchdog, due in {@code waitNanos}. */
    UpstreamCall(HttpUriRequestBase request, long waitNanos) {
        this.request = request;
        this.watchdog = Watchdogs.schedule(this, waitNanos);
    }

    /** The watchdog: the answer did not begin (or a whole answer not end) in time. */
    @Override
    public void run() {
        expired = true;
        request.cancel();
    }

    /** Whether the watchdog cancelled the call. */
    boolean expired() {
        return expired;
    }

    /** Stops the watchdog: the call failed, was read whole, or is a stream, which its stall guard bounds instead. */
    void unwatch() {
        watchdog.cancel(false);
    }

    /** Drops the call's connection, and with it an answer nobody reads (an error the next upstream replaces). */
    void drop(ClassicHttpResponse response) {
        unwatch();
        request.cancel();
        try {
            response.close();
        } catch (IOException e) {
            // the connection is gone either way
        }
    }

    /** The answer's body, owning {@code response} from now on; empty when it has none. */
    InputStream body(ClassicHttpResponse response) throws IOException {
        return new Body(response, response.getEntity() == null ? InputStream.nullInputStream()
                : response.getEntity().getContent());
    }

    /** An answer's body: see {@link UpstreamCall}. */
    private final class Body extends FilterInputStream {
        private final ClassicHttpResponse response;
        private final AtomicBoolean closed = new AtomicBoolean();
        private volatile boolean atEnd;

        Body(ClassicHttpResponse response, InputStream content) {
            super(content);
            this.response = response;
        }

        @Override
        public int read() throws IOException {
            int next = super.read();
            atEnd = next < 0;
            return next;
        }

        @Override
        public int read(byte[] buffer, int offset, int length) throws IOException {
            int count = super.read(buffer, offset, length);
            atEnd = count < 0;
            return count;
        }

        @Override
        public void close() throws IOException {
            if (!closed.compareAndSet(false, true)) {
                return;
            }
            if (!atEnd) {
                request.cancel();
            }
            response.close();
        }
    }
}
