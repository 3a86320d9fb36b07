package dev.modelgate.plugins.batching;

import dev.modelgate.spi.BackendCall;
import dev.modelgate.spi.BackendChain;
import dev.modelgate.spi.BackendFilter;
import dev.modelgate.spi.BackendResult;
import dev.modelgate.spi.CoreErrors;
import dev.modelgate.spi.Metrics;
import dev.modelgate.spi.RejectionException;
import dev.modelgate.spi.inference.InferenceRequest;
import dev.modelgate.spi.inference.InferenceResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A dynamic batcher in front of one backend, after Triton's (shared/reference/protocols.md section 4), run by the
 * requests' own virtual threads rather than a thread of its own.
 *
 * <p>Requests queue in arrival order. Only the oldest request (the head) may lead a batch, and only while fewer than
 * {@code max-concurrent-batches} batches are in flight: it takes, in arrival order, the queued requests that can share
 * its tensors ({@link Batches.Key}) up to {@code max-batch-size} rows (cut to the largest preferred size that can be
 * formed, if any), merges them, calls the rest of the chain once with the merged request, splits the answer and hands
 * each member its part. With the opportunistic strategy the head leads as soon as a slot is free; with the delay
 * strategy it also waits for a full or preferred batch, at most {@code max-queue-delay} after it arrived. A request
 * that cannot be batched (no inputs, inputs that disagree on the first dimension, more rows than a batch holds) rides
 * alone.
 *
 * <p>A request whose deadline passes while it queues leaves the queue with 40008 and is never sent; one whose batch is
 * still running at its deadline stops waiting with the same code. A request whose client goes away while it queues
 * ({@link dev.modelgate.spi.Exchange#onClientGone}) leaves the queue with 30402 and is never sent. A failed backend call fails every member; an answer
 * that cannot be split fails every member with 40007. The batch is called with its leader's exchange (deadline,
 * headers), the oldest member's. Each request waits on its own condition, so a finished batch wakes its members and
 * the new head, never the whole queue.
 */
final class Batcher implements BackendFilter {

    private static final System.Logger LOG = System.getLogger(Batcher.class.getName());

    private final BatchingSettings settings;
    private final ReentrantLock lock = new ReentrantLock();
    /** Guarded by {@link #lock}, as is every field of {@link Pending}. */
    private final List<Pending> queue = new ArrayList<>();
    private int batchesInFlight;
    private volatile int queueDepth;
    private volatile int inFlightGauge;
    private final Metrics.Counter refused;
    private final Metrics.Counter expired;
    private final Metrics.Counter abandoned;
    private final Metrics.Counter batches;
    private final Metrics.Counter batchedRequests;
    private final Metrics.Histogram batchSizes;
    private final Metrics.Histogram queueDelays;

    Batcher(String backend, BatchingSettings settings, Metrics metrics) {
        this.settings = settings;
        Map<String, String> labels = Map.of("backend", backend);
        metrics.gauge("modelgate_batching_queue_depth", "Requests waiting for a batch, per backend.", labels,
                () -> queueDepth);
        metrics.gauge("modelgate_batching_batches_in_flight", "Batches sent and not yet answered, per backend.",
                labels, () -> inFlightGauge);
        this.refused = metrics.counter("modelgate_batching_refused_total",
                "Requests refused because the backend's batching queue was full.", labels);
        this.expired = metrics.counter("modelgate_batching_expired_total",
                "Requests whose deadline passed while they waited for their batch.", labels);
        this.abandoned = metrics.counter("modelgate_batching_abandoned_total",
                "Requests whose client went away while they waited for their batch; none reached the backend.",
                labels);
        this.batches = metrics.counter("modelgate_batching_batches_total",
                "Backend calls the batcher made; requests_total divided by this is the mean batch size.", labels);
        this.batchedRequests = metrics.counter("modelgate_batching_requests_total",
                "Requests that rode in a batch (one counted per request, whatever its rows).", labels);
        this.batchSizes = metrics.histogram("modelgate_batching_batch_size",
                "Requests per backend call the batcher made.", labels, 1, 2, 4, 8, 16, 32, 64, 128, 256);
        this.queueDelays = metrics.histogram("modelgate_batching_queue_delay_seconds",
                "How long each request waited for its batch to leave.", labels,
                0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1);
    }

    /** One request waiting for, or riding in, a batch. */
    private final class Pending {
        final BackendCall call;
        final BackendChain chain;
        /** {@code null} when it rides alone. */
        final Batches.Key key;
        final int rows;
        final long arrivedNanos;
        final Condition turn = lock.newCondition();
        boolean sent;
        /** Whether it listens for its client going away: once it has to wait, never when it leads at once. */
        boolean watched;
        BackendResult result;

        Pending(BackendCall call, BackendChain chain, long arrivedNanos) {
            this.call = call;
            this.chain = chain;
            this.arrivedNanos = arrivedNanos;
            int requestRows = call.request().rows();
            this.rows = Math.max(requestRows, 0);
            this.key = requestRows < 0 || requestRows > settings.maxBatchSize() ? null
                    : Batches.keyOf(call.request());
        }

        long deadlineNanos() {
            return call.exchange().deadlineNanos();
        }

        boolean batchesWith(Pending other) {
            return key != null && key.equals(other.key);
        }
    }

    @Override
    public BackendResult filter(BackendCall call, BackendChain chain) {
        if (call.isProxy()) {
            // Bytes in a dialect this backend forwards as they are: nothing to merge.
            return chain.proceed(call);
        }
        Pending pending = new Pending(call, chain, System.nanoTime());
        List<Pending> batch;
        lock.lock();
        try {
            if (queue.size() >= settings.maxQueueSize()) {
                refused.increment();
                return BackendResult.failed(BatchingProvider.QUEUE_FULL, settings.maxQueueSize()
                        + " requests are already waiting for a batch to the model's backend");
            }
            queue.add(pending);
            queueDepth = queue.size();
            wakeHead();
            batch = awaitTurn(pending);
            if (batch == null) {
                return pending.result;
            }
            batchesInFlight++;
            inFlightGauge = batchesInFlight;
            wakeHead();
        } finally {
            lock.unlock();
        }
        List<BackendResult> results = null;
        try {
            results = send(batch);
        } finally {
            // The chain never throws by contract; should a bug break it, the members must still hear of it.
            finish(batch, results != null ? results : sameFor(batch,
                    BackendResult.failed(CoreErrors.INTERNAL, "the batch this request rode in failed")));
        }
        return results.getFirst();
    }

    /** Frees the batch's slot and hands each member but the leader its result. */
    private void finish(List<Pending> batch, List<BackendResult> results) {
        lock.lock();
        try {
            batchesInFlight--;
            inFlightGauge = batchesInFlight;
            for (int i = 1; i < batch.size(); i++) {
                Pending member = batch.get(i);
                member.result = results.get(i);
                member.turn.signal();
            }
            wakeHead();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Waits, holding the lock between waits, until {@code pending} has its result (another request led its batch, or
     * it expired) or leads a batch itself.
     *
     * @return the batch {@code pending} leads, taken off the queue; {@code null} when {@code pending.result} is set
     */
    private List<Pending> awaitTurn(Pending pending) {
        while (true) {
            if (pending.result != null) {
                return null;
            }
            long now = System.nanoTime();
            if (now - pending.deadlineNanos() >= 0) {
                expire(pending);
                return null;
            }
            long wakeAt = pending.deadlineNanos();
            if (!pending.sent && queue.getFirst() == pending && batchesInFlight < settings.maxConcurrentBatches()) {
                List<Pending> plan = plan(pending);
                long readyAt = readyAt(pending, plan);
                if (readyAt - now <= 0) {
                    take(plan);
                    return plan;
                }
                wakeAt = readyAt - wakeAt < 0 ? readyAt : wakeAt;
            }
            if (!pending.watched) {
                pending.watched = true;
                // On the request's own thread, as exchanges require; told on an IO thread, which must not wait for
                // the lock.
                pending.call.exchange().onClientGone(() -> Thread.startVirtualThread(() -> abandon(pending)));
            }
            try {
                pending.turn.awaitNanos(wakeAt - now);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                leave(pending);
                pending.result = BackendResult.failed(CoreErrors.SHUTTING_DOWN, "while waiting for a batch");
                return null;
            }
        }
    }

    /** The head's batch as it would leave now: compatible requests in arrival order, cut to a preferred size. */
    private List<Pending> plan(Pending head) {
        List<Pending> plan = new ArrayList<>();
        plan.add(head);
        if (head.key == null) {
            return plan;
        }
        int rows = head.rows;
        int preferredEnd = settings.preferredBatchSizes().contains(rows) ? 1 : 0;
        int preferredRows = preferredEnd > 0 ? rows : 0;
        for (int i = 1; i < queue.size() && rows < settings.maxBatchSize(); i++) {
            Pending next = queue.get(i);
            if (next.batchesWith(head) && rows + next.rows <= settings.maxBatchSize()) {
                plan.add(next);
                rows += next.rows;
                if (settings.preferredBatchSizes().contains(rows) && rows > preferredRows) {
                    preferredEnd = plan.size();
                    preferredRows = rows;
                }
            }
        }
        return preferredEnd > 0 ? plan.subList(0, preferredEnd) : plan;
    }

    /** When the head may send {@code plan}: now, or with the delay strategy, once full, preferred or overdue. */
    private long readyAt(Pending head, List<Pending> plan) {
        if (settings.strategy() == BatchingSettings.Strategy.OPPORTUNISTIC || head.key == null) {
            return head.arrivedNanos;
        }
        int rows = 0;
        for (Pending member : plan) {
            rows += member.rows;
        }
        if (rows >= settings.maxBatchSize() || settings.preferredBatchSizes().contains(rows)) {
            return head.arrivedNanos;
        }
        return head.arrivedNanos + settings.maxQueueDelay().toNanos();
    }

    private void take(List<Pending> plan) {
        long now = System.nanoTime();
        batchSizes.observe(plan.size());
        for (Pending member : plan) {
            member.sent = true;
            queueDelays.observe((now - member.arrivedNanos) / 1e9);
            // Under the lock, while the member's own thread waits for it: exchanges are not thread-safe.
            member.call.exchange().setAttribute(BackendCall.BATCH_SIZE, plan.size());
        }
        queue.removeAll(plan);
        queueDepth = queue.size();
    }

    /** The client of {@code pending} went away: unless its batch has left, it leaves the queue, never sent. */
    private void abandon(Pending pending) {
        lock.lock();
        try {
            if (pending.sent || pending.result != null) {
                return;
            }
            abandoned.increment();
            leave(pending);
            pending.result = BackendResult.failed(BatchingProvider.CLIENT_GONE, "before its batch was sent");
            pending.turn.signal();
        } finally {
            lock.unlock();
        }
    }

    private void expire(Pending pending) {
        expired.increment();
        leave(pending);
        pending.result = BackendResult.failed(CoreErrors.DEADLINE_EXCEEDED, pending.sent
                ? "while its batch was at the backend" : "while waiting for a batch, before the backend was called");
    }

    private void leave(Pending pending) {
        if (!pending.sent && queue.remove(pending)) {
            queueDepth = queue.size();
            wakeHead();
        }
    }

    private void wakeHead() {
        if (!queue.isEmpty()) {
            queue.getFirst().turn.signal();
        }
    }

    /** Calls the backend once for {@code batch} with its leader's chain: one result per member, in batch order. */
    private List<BackendResult> send(List<Pending> batch) {
        batches.increment();
        batchedRequests.add(batch.size());
        Pending leader = batch.getFirst();
        if (batch.size() == 1) {
            return List.of(leader.chain.proceed(leader.call));
        }
        List<InferenceRequest> requests = new ArrayList<>(batch.size());
        int[] rows = new int[batch.size()];
        for (int i = 0; i < batch.size(); i++) {
            requests.add(batch.get(i).call.request());
            rows[i] = batch.get(i).rows;
        }
        BackendResult merged;
        try {
            merged = leader.chain.proceed(leader.call.withRequest(Batches.merge(requests)));
        } catch (RejectionException e) {
            return sameFor(batch, BackendResult.failed(e.errorCode(), "the batch of " + batch.size()
                    + " requests: " + e.getMessage()));
        }
        if (merged.inferenceResponse() == null) {
            return sameFor(batch, merged);
        }
        try {
            List<BackendResult> results = new ArrayList<>(batch.size());
            for (InferenceResponse answer : Batches.split(merged.inferenceResponse(), requests, rows)) {
                results.add(BackendResult.inferred(answer));
            }
            return results;
        } catch (IllegalArgumentException e) {
            LOG.log(System.Logger.Level.WARNING, () -> "cannot split a batch answer: " + e.getMessage());
            return sameFor(batch, BackendResult.failed(CoreErrors.BACKEND_BAD_RESPONSE,
                    "the backend's answer to a batch cannot be split: " + e.getMessage()));
        }
    }

    private static List<BackendResult> sameFor(List<Pending> batch, BackendResult result) {
        return java.util.Collections.nCopies(batch.size(), result);
    }
}
