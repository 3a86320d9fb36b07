package dev.modelgate.plugins.http;

import dev.modelgate.plugins.pool.CallTime;
import dev.modelgate.plugins.pool.Instance;
import dev.modelgate.plugins.pool.InstanceOutcomes;
import dev.modelgate.plugins.pool.Watchdogs;
import dev.modelgate.spi.BackendException;
import dev.modelgate.spi.CoreErrors;
import dev.modelgate.spi.Exchange;
import dev.modelgate.spi.Headers;
import dev.modelgate.spi.RejectionException;
import dev.modelgate.spi.Response;
import dev.modelgate.spi.upstream.UpstreamException;
import java.io.IOException;
import java.io.InputStream;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ScheduledFuture;

/**
 * One call to an instance, in flight: its outcome, and its end, which comes with the answer read whole or, for an
 * answer passed on as a {@link StreamingBody}, with the stream's end. Only at its end is the call taken off the
 * instance's in-flight count.
 *
 * <p>The upstream pool bounds the call's time, a streamed body included; a watchdog releases a streamed body nobody
 * claimed by then.
 *
 * <p>Threads: made by the request's thread; its answer or failure comes on an IO thread; a stream ends it on
 * whichever thread ended the stream.
 */
final class BackendCall implements Runnable, StreamingBody.Listener {

    private final InstanceOutcomes outcomes;
    private final Instance instance;
    private final boolean cutByDeadline;
    private final int maxResponseBytes;
    private volatile StreamingBody body;
    private volatile ScheduledFuture<?> watchdog;

    /**
     * Counts the call as started.
     *
     * @param cutByDeadline whether the call's time is the request's deadline rather than the backend's
     *     {@code request-timeout}: running out of it is then no fault of the instance
     */
    BackendCall(InstanceOutcomes outcomes, Instance instance, boolean cutByDeadline, int maxResponseBytes) {
        this.outcomes = outcomes;
        this.instance = instance;
        this.cutByDeadline = cutByDeadline;
        this.maxResponseBytes = maxResponseBytes;
        outcomes.started(instance);
    }

    /** The watchdog: the call's time is up, and a body nobody claimed is released. */
    @Override
    public void run() {
        StreamingBody unclaimed = body;
        if (unclaimed != null) {
            unclaimed.abandon();
        }
    }

    /**
     * The answer as a stream that owns {@code in} from now on and ends this call when it ends. Should the exchange
     * end without it (a filter answered instead, say), the exchange's end releases it; the watchdog, at the call's
     * time limit, is the backstop.
     *
     * @param headers the headers describing the body
     * @param waitNanos the call's time, from its start: the watchdog fires no later
     */
    Response stream(InputStream in, int status, Headers headers, Exchange exchange, long waitNanos) {
        StreamingBody streamed = new StreamingBody(in, maxResponseBytes, this);
        body = streamed;
        exchange.onComplete(failure -> streamed.abandon());
        watchdog = Watchdogs.schedule(this, waitNanos);
        return new Response(status, headers, streamed, 0);
    }

    /** The answer was read whole: a 5xx counts against the instance, anything else for it. */
    void answered(int status) {
        if (status >= 500) {
            outcomes.failed(instance);
        } else {
            outcomes.succeeded(instance);
        }
    }

    /**
     * The exception the call fails with for {@code failure} (the pool's, as the stage gave it), counted against the
     * instance when it is at fault: a {@link BackendException}, or a {@link RejectionException} with
     * {@link CoreErrors#DEADLINE_EXCEEDED} when the request's deadline, not the instance, cut the call, or for a
     * failure with a code of its own, such as a broken answer.
     */
    Exception failed(Throwable failure) {
        Throwable cause = failure instanceof CompletionException && failure.getCause() != null
                ? failure.getCause() : failure;
        if (!(cause instanceof UpstreamException upstream)) {
            return cause instanceof RuntimeException unexpected ? unexpected : new IllegalStateException(cause);
        }
        CallFailure judged = judge(upstream);
        if (judged == null) {
            // The client's own deadline ran out, not the instance's time: nothing to hold against it, and no
            // backend failure for a circuit breaker to count.
            return CallTime.deadlineExceeded();
        }
        if (judged.instanceAtFault()) {
            outcomes.failed(instance);
        }
        return judged.ownCode() != null ? judged.asRejection() : judged.exception();
    }

    /**
     * The stream ended: a complete one counts for the instance, one it broke (or outlived its time on) against it;
     * one cut by its size, its client or its reader's absence, neither.
     */
    @Override
    public void ended(StreamingBody.End end, IOException cause) {
        try {
            if (end == StreamingBody.End.COMPLETE) {
                outcomes.succeeded(instance);
            } else if (end == StreamingBody.End.BACKEND_FAILED && cause != null) {
                CallFailure failure = judge(cause);
                if (failure != null && failure.instanceAtFault()) {
                    outcomes.failed(instance);
                }
            }
        } finally {
            end();
        }
    }

    /** The error a reader of the whole body gets, with the code the same failure gets before the body. */
    @Override
    public RuntimeException unreadable(StreamingBody.End end, IOException cause) {
        CallFailure failure = switch (end) {
            case TOO_LARGE -> CallFailure.tooLarge(maxResponseBytes);
            case BACKEND_FAILED -> judge(cause == null ? new IOException("reading the body failed") : cause);
            default -> cutByDeadline ? null : CallFailure.timedOut(cause);
        };
        return failure == null ? CallTime.deadlineExceeded() : failure.asRejection();
    }

    /** Stops the watchdog and takes the call off the instance's in-flight count; once per call. */
    void end() {
        ScheduledFuture<?> started = watchdog;
        if (started != null) {
            started.cancel(false);
        }
        outcomes.ended(instance);
    }

    /** What {@code e} means; {@code null} when the request's deadline, not the instance, cut the call. */
    private CallFailure judge(IOException e) {
        if (cutByDeadline && e instanceof UpstreamException upstream
                && upstream.kind() == UpstreamException.Kind.TIMED_OUT) {
            return null;
        }
        return CallFailure.of(e);
    }
}
