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
import java.io.IOException;
import java.net.SocketTimeoutException;
import java.util.concurrent.ScheduledFuture;
import org.apache.hc.client5.http.classic.methods.HttpUriRequestBase;
import org.apache.hc.core5.http.ClassicHttpResponse;

/**
 * One call to an instance, in flight: its watchdog, its outcome, and its end, which comes with the answer read whole
 * or, for an answer passed on as a {@link StreamingBody}, with the stream's end. Only at its end is the call taken
 * off the instance's in-flight count and its watchdog cancelled.
 *
 * <p>Threads: made and {@link #watch watched} by the request's thread, which then either {@link #end}s it or hands it
 * to a stream; the watchdog runs on the shared timer's thread; a stream ends it on whichever thread ended the stream.
 */
final class BackendCall implements Runnable, StreamingBody.Listener {

    private final InstanceOutcomes outcomes;
    private final Instance instance;
    private final HttpUriRequestBase request;
    private final boolean cutByDeadline;
    private final int maxResponseBytes;
    private volatile boolean expired;
    private volatile StreamingBody body;
    private ScheduledFuture<?> watchdog;

    /**
     * Counts the call as started.
     *
     * @param cutByDeadline whether the call's time is the request's deadline rather than the backend's
     *     {@code request-timeout}: running out of it is then no fault of the instance
     */
    BackendCall(InstanceOutcomes outcomes, Instance instance, HttpUriRequestBase request, boolean cutByDeadline,
            int maxResponseBytes) {
        this.outcomes = outcomes;
        this.instance = instance;
        this.request = request;
        this.cutByDeadline = cutByDeadline;
        this.maxResponseBytes = maxResponseBytes;
        outcomes.started(instance);
    }

    /**
     * Starts the watchdog. Apache's response timeout bounds each read, not the call: a backend dripping bytes would
     * outlast it. The watchdog aborts the whole exchange at the time allowed, and releases a streamed body nobody
     * claimed.
     */
    void watch(long waitNanos) {
        watchdog = Watchdogs.schedule(this, waitNanos);
    }

    /** Whether the watchdog has cut the call. */
    boolean expired() {
        return expired;
    }

    /** The watchdog: the call's time is up. */
    @Override
    public void run() {
        expired = true;
        request.cancel();
        StreamingBody unclaimed = body;
        if (unclaimed != null) {
            unclaimed.abandon();
        }
    }

    /**
     * The answer as a stream that owns {@code response} from now on and ends this call when it ends. Should the
     * exchange end without it (a filter answered instead, say), the exchange's end releases it; the watchdog is
     * the backstop.
     *
     * @param headers the headers describing the body
     */
    Response stream(ClassicHttpResponse response, Headers headers, Exchange exchange) throws IOException {
        StreamingBody streamed = new StreamingBody(response, response.getEntity().getContent(), maxResponseBytes,
                request::cancel, this);
        body = streamed;
        exchange.onComplete(failure -> streamed.abandon());
        if (expired) {
            // The watchdog fired before it could see the body: release it here.
            streamed.abandon();
        }
        return new Response(response.getCode(), headers, streamed, 0);
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
     * The exception to throw for {@code e}, counted against the instance when it is at fault.
     *
     * @throws RejectionException {@link CoreErrors#DEADLINE_EXCEEDED} when the request's deadline, not the
     *     instance, cut the call; a failure with a code of its own, such as a broken answer
     */
    BackendException failed(IOException e) {
        CallFailure failure = judge(e);
        if (failure == null) {
            // The client's own deadline ran out, not the instance's time: nothing to hold against it, and no
            // backend failure for a circuit breaker to count.
            throw CallTime.deadlineExceeded();
        }
        if (failure.instanceAtFault()) {
            outcomes.failed(instance);
        }
        if (failure.ownCode() != null) {
            throw failure.asRejection();
        }
        return failure.exception();
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
        watchdog.cancel(false);
        outcomes.ended(instance);
    }

    /** What {@code e} means; {@code null} when the request's deadline, not the instance, cut the call. */
    private CallFailure judge(IOException e) {
        if ((expired || e instanceof SocketTimeoutException) && cutByDeadline) {
            return null;
        }
        return expired ? CallFailure.timedOut(e) : CallFailure.of(e);
    }

}
