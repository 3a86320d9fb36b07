package dev.modelgate.kernel;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * The order of a drain that loses no request. From its start, no request is admitted (each is answered 503 with code
 * 30001 and {@code Connection: close}, its body read first so that closing does not reset the connection under the
 * answer) and every answer of an admitted request carries {@code Connection: close}. The API listener stays open for
 * {@code server.drain-delay}, while load balancers see readiness down, then closes: later connections are refused by
 * the operating system rather than accepted and reset. Then the admitted requests get up to the shutdown deadline;
 * each counts as finished once its answer was flushed, so the caller may close everything after {@link #run}.
 */
final class Drain {

    private static final System.Logger LOG = System.getLogger(Drain.class.getName());

    private final InFlightRequests inFlight;
    private final ApiListener listener;

    Drain(InFlightRequests inFlight, ApiListener listener) {
        this.inFlight = inFlight;
        this.listener = listener;
    }

    /** @return {@code true} when every admitted request finished within {@code deadline} of the listener's close */
    boolean run(Duration delay, Duration deadline) {
        inFlight.stopAdmitting();
        boolean drained;
        try {
            if (!delay.isZero()) {
                LOG.log(System.Logger.Level.INFO, "draining: the listener closes in " + delay);
                TimeUnit.NANOSECONDS.sleep(delay.toNanos());
            }
            listener.stopAccepting();
            drained = inFlight.awaitIdle(deadline);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            listener.stopAccepting();
            drained = false;
        }
        if (!drained) {
            LOG.log(System.Logger.Level.WARNING, "shutdown deadline of " + deadline + " passed with requests in flight");
        }
        listener.closeConnections();
        return drained;
    }
}
