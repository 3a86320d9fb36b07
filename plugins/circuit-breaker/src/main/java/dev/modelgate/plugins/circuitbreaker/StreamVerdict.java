package dev.modelgate.plugins.circuitbreaker;

import dev.modelgate.spi.Body;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The outcome of one call whose answer streams, recorded once, when it is known: when the body has been written to
 * the end (the outcome its status promised), when reading it from the backend broke (a failure), or when the client
 * stopped reading (ignored: the backend was not at fault). A body that is never written (the client left first, or a
 * retry set it aside) is judged by its status when the exchange completes.
 *
 * <p>Watching the body itself, rather than only the exchange's completion, tells the backend's failures from the
 * client's, and holds on every front, including one that reads the whole stream before it answers.
 *
 * <p>Thread-safe: the body is written on the request's thread, completion may run on another; the first to judge wins.
 */
final class StreamVerdict {

    private final CircuitBreaker breaker;
    private final CircuitBreaker.Permit permit;
    private final CircuitBreaker.Outcome whenWhole;
    private final long answeredNanos;
    private final AtomicBoolean judged = new AtomicBoolean();

    /**
     * @param whenWhole the outcome of the answer's status, which holds if the body arrives whole
     * @param answeredNanos when the backend answered, on the breaker's clock: what the call's slowness is measured by
     */
    StreamVerdict(CircuitBreaker breaker, CircuitBreaker.Permit permit, CircuitBreaker.Outcome whenWhole,
            long answeredNanos) {
        this.breaker = breaker;
        this.permit = permit;
        this.whenWhole = whenWhole;
        this.answeredNanos = answeredNanos;
    }

    /** {@code body}, reporting how its writing ends to this verdict. */
    Body watch(Body body) {
        return new Body() {
            @Override
            public long length() {
                return body.length();
            }

            @Override
            public void writeTo(OutputStream out) throws IOException {
                ClientSide client = new ClientSide(out);
                try {
                    body.writeTo(client);
                } catch (IOException | RuntimeException e) {
                    record(client.failed ? CircuitBreaker.Outcome.IGNORED : CircuitBreaker.Outcome.FAILURE);
                    throw e;
                }
                record(whenWhole);
            }
        };
    }

    /** The exchange completed: a body never written is judged by its status. */
    void onComplete() {
        record(whenWhole);
    }

    private void record(CircuitBreaker.Outcome outcome) {
        if (judged.compareAndSet(false, true)) {
            breaker.onResult(permit, outcome, answeredNanos);
        }
    }

    /** The client's side of the copy, remembering whether writing to it failed. */
    private static final class ClientSide extends FilterOutputStream {
        private boolean failed;

        ClientSide(OutputStream out) {
            super(out);
        }

        @Override
        public void write(int b) throws IOException {
            try {
                out.write(b);
            } catch (IOException | RuntimeException e) {
                failed = true;
                throw e;
            }
        }

        @Override
        public void write(byte[] bytes, int offset, int length) throws IOException {
            try {
                out.write(bytes, offset, length);
            } catch (IOException | RuntimeException e) {
                failed = true;
                throw e;
            }
        }

        @Override
        public void flush() throws IOException {
            try {
                out.flush();
            } catch (IOException | RuntimeException e) {
                failed = true;
                throw e;
            }
        }
    }
}
