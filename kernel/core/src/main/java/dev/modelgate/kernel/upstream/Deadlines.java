package dev.modelgate.kernel.upstream;

import java.util.concurrent.TimeUnit;
import org.xnio.XnioExecutor;
import org.xnio.XnioIoThread;

/**
 * The deadlines of one IO thread's calls of a pool, in the order they come due, watched by one timer set for the
 * first: it replaces a timer per call (XNIO's timers are a sorted tree, an insert and a removal per call). A pool's
 * calls mostly share a timeout, so a call's deadline mostly goes last (found from the end, past the few calls in
 * flight that are due later), and a call that ends leaves the list at once. The timer, when the call it was set for
 * ended, finds the next one not yet due and is set again for it. Used on its thread only.
 */
final class Deadlines {

    /** Far enough for any call, near enough that deadlines compared by their difference never overflow. */
    private static final long LONGEST_NANOS = 1L << 61;

    private final XnioIoThread thread;
    private UpstreamCall first;
    private UpstreamCall last;
    private XnioExecutor.Key alarm;
    private long alarmAt;

    Deadlines(XnioIoThread thread) {
        this.thread = thread;
    }

    /** Starts {@code call}'s time: it is {@link UpstreamCall#expire expired} at its end, unless removed before. */
    void add(UpstreamCall call, long timeoutNanos) {
        long deadline = System.nanoTime() + Math.min(Math.max(1, timeoutNanos), LONGEST_NANOS);
        call.deadline = deadline;
        call.deadlines = this;
        UpstreamCall before = last;
        while (before != null && before.deadline - deadline > 0) {
            before = before.earlier;
        }
        call.earlier = before;
        call.later = before == null ? first : before.later;
        if (before == null) {
            first = call;
        } else {
            before.later = call;
        }
        if (call.later == null) {
            last = call;
        } else {
            call.later.earlier = call;
        }
        armFor(deadline);
    }

    /** {@code call} ended before its time did. */
    void remove(UpstreamCall call) {
        if (call.earlier == null) {
            first = call.later;
        } else {
            call.earlier.later = call.later;
        }
        if (call.later == null) {
            last = call.earlier;
        } else {
            call.later.earlier = call.earlier;
        }
        call.earlier = null;
        call.later = null;
        call.deadlines = null;
    }

    /**
     * Sets the timer for {@code deadline} unless it is set for an earlier one: never a second timer, which nothing
     * would remove and which, ringing, would set another.
     */
    private void armFor(long deadline) {
        if (alarm == null || alarmAt - deadline > 0) {
            if (alarm != null) {
                alarm.remove();
            }
            arm(deadline);
        }
    }

    private void arm(long at) {
        alarmAt = at;
        alarm = thread.executeAfter(this::ring, Math.max(1, at - System.nanoTime()), TimeUnit.NANOSECONDS);
    }

    private void ring() {
        alarm = null;
        long now = System.nanoTime();
        while (first != null && first.deadline - now <= 0) {
            UpstreamCall due = first;
            remove(due);
            // Whoever hears of its end may start a call here, whose add sets the timer already.
            due.expire();
        }
        if (first != null) {
            armFor(first.deadline);
        }
    }
}
