package dev.modelgate.plugins.pool;

import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * The one timer every remote backend's calls ({@code http}, {@code openai}) are bounded by: a watchdog per call, due
 * at the call's time limit, that aborts the call when it is still running then.
 *
 * <p>One daemon thread for the whole process, started with the first call (a holder class, so a gateway without a
 * remote backend never starts it) and never stopped: a thread per backend bought nothing, as a watchdog only
 * ever runs a cancel, and cost a thread and a queue per configured backend. A closed backend's pending watchdogs are
 * cancelled by its calls as they end; one that fires after its call ended does nothing harmful.
 *
 * <p>Thread-safety: {@link #schedule} is called concurrently from many virtual threads. Watchdogs run on the timer's
 * thread and must be quick and never block: they abort a request, release a body.
 */
public final class Watchdogs {

    private Watchdogs() {
    }

    private static final class Timer {
        static final ScheduledThreadPoolExecutor INSTANCE = start();

        private static ScheduledThreadPoolExecutor start() {
            ScheduledThreadPoolExecutor timer = new ScheduledThreadPoolExecutor(1,
                    Thread.ofPlatform().daemon().name("modelgate-http-watchdog").factory());
            // Nearly every watchdog is cancelled long before it is due; keep them from piling up in the queue.
            timer.setRemoveOnCancelPolicy(true);
            return timer;
        }
    }

    /** Runs {@code watchdog} on the timer's thread in {@code delayNanos}, unless the returned future is cancelled. */
    public static ScheduledFuture<?> schedule(Runnable watchdog, long delayNanos) {
        return Timer.INSTANCE.schedule(watchdog, delayNanos, TimeUnit.NANOSECONDS);
    }
}
