package dev.modelgate.plugins.circuitbreaker;

import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.LongSupplier;

/**
 * The circuit of one backend: a state machine in one {@link AtomicReference}, changed only by
 * {@link #transition(State, State, String)}, which rejects illegal moves. Legal moves are closed to open, open to
 * half-open, half-open to closed and half-open to open.
 *
 * <p>A caller asks {@link #tryAcquire()} before each call and, when permitted, reports what happened with
 * {@link #onResult(Permit, Outcome)}. Each state owns its own counts, and a result is recorded against the state that
 * permitted the call: a call that was let through before the circuit moved on cannot sway the new state.
 *
 * <p>Time-driven moves (open to half-open once {@code wait-in-open} has passed, half-open back to open once
 * {@code max-wait-in-half-open} has) are made lazily, the next time the breaker is consulted: by a call, or by
 * {@link #currentState()} when metrics are scraped. Time comes from the injected nano clock only.
 *
 * <p>Thread-safety: lock-free apart from the closed state's sliding window; every method may be called from many
 * threads at once. When threads race to move the circuit, exactly one move wins and the others see its result.
 */
final class CircuitBreaker {

    /** The state a circuit is in. */
    enum Kind {
        CLOSED(0), OPEN(1), HALF_OPEN(2);

        private final int gaugeValue;

        Kind(int gaugeValue) {
            this.gaugeValue = gaugeValue;
        }

        /** 0 closed, 1 open, 2 half-open, as {@code modelgate_circuit_state} reports it. */
        int gaugeValue() {
            return gaugeValue;
        }

        /** {@code closed}, {@code open} or {@code half-open}: how logs and metric labels name it. */
        String label() {
            return name().toLowerCase(Locale.ROOT).replace('_', '-');
        }

        boolean canMoveTo(Kind target) {
            return switch (this) {
                case CLOSED -> target == OPEN;
                case OPEN -> target == HALF_OPEN;
                case HALF_OPEN -> target == CLOSED || target == OPEN;
            };
        }
    }

    /** What a caller reports about a permitted call. */
    enum Outcome {
        SUCCESS, FAILURE,
        /** Not the backend's doing (the request was refused before reaching it): not recorded at all. */
        IGNORED
    }

    /** Told of every move, after it happened, on the thread that made it. Must not throw. */
    @FunctionalInterface
    interface Listener {
        void onTransition(Kind from, Kind to, String reason);
    }

    /** The answer of {@link #tryAcquire()}. */
    sealed interface Decision permits Permit, Denied {
    }

    /** The call may go ahead; report its outcome with {@link #onResult}. */
    static final class Permit implements Decision {
        private final State grantedIn;
        private final long startNanos;

        private Permit(State grantedIn, long startNanos) {
            this.grantedIn = grantedIn;
            this.startNanos = startNanos;
        }

        /** The state the call was permitted in. */
        Kind grantedIn() {
            return grantedIn.kind();
        }
    }

    /**
     * The call must not be made.
     *
     * @param state the state that refused it, open or half-open
     * @param retryAfterNanos how long until a call may be permitted again: the rest of the open wait, or for a
     *     half-open circuit whose trial calls are all taken, {@link #HALF_OPEN_RETRY_NANOS}
     */
    record Denied(Kind state, long retryAfterNanos) implements Decision {
    }

    /** The hint given while half-open trial calls are in progress: their outcome is usually known within seconds. */
    static final long HALF_OPEN_RETRY_NANOS = TimeUnit.SECONDS.toNanos(1);

    private sealed interface State permits Closed, Open, HalfOpen {
        Kind kind();
    }

    private record Closed(SlidingWindow window) implements State {
        @Override
        public Kind kind() {
            return Kind.CLOSED;
        }
    }

    private record Open(long halfOpenAtNanos) implements State {
        @Override
        public Kind kind() {
            return Kind.OPEN;
        }
    }

    /** Counts its trial calls: {@code failures} and {@code slowCalls} are updated before {@code completed}. */
    private static final class HalfOpen implements State {
        final long sinceNanos;
        final AtomicInteger permitsLeft;
        final AtomicInteger failures = new AtomicInteger();
        final AtomicInteger slowCalls = new AtomicInteger();
        final AtomicInteger completed = new AtomicInteger();

        HalfOpen(long sinceNanos, int permits) {
            this.sinceNanos = sinceNanos;
            this.permitsLeft = new AtomicInteger(permits);
        }

        @Override
        public Kind kind() {
            return Kind.HALF_OPEN;
        }

        boolean tryTakePermit() {
            return permitsLeft.getAndUpdate(left -> left > 0 ? left - 1 : 0) > 0;
        }
    }

    private final String name;
    private final CircuitBreakerConfig config;
    private final LongSupplier nanoClock;
    private final Listener listener;
    private final long slowCallNanos;
    private final long waitInOpenNanos;
    private final long maxWaitInHalfOpenNanos;
    private final AtomicReference<State> state;

    /**
     * @param name the backend it guards, for messages
     * @param nanoClock a monotonic nano clock ({@code System::nanoTime}; tests pass one they advance)
     */
    CircuitBreaker(String name, CircuitBreakerConfig config, LongSupplier nanoClock, Listener listener) {
        this.name = name;
        this.config = config;
        this.nanoClock = nanoClock;
        this.listener = listener;
        this.slowCallNanos = config.slowCallDuration().toNanos();
        this.waitInOpenNanos = config.waitInOpen().toNanos();
        this.maxWaitInHalfOpenNanos = config.maxWaitInHalfOpen().toNanos();
        this.state = new AtomicReference<>(new Closed(SlidingWindow.of(config)));
    }

    /** The state as last stored, without making a time-driven move that is due. */
    Kind state() {
        return state.get().kind();
    }

    /** The state after making any time-driven move that is due. */
    Kind currentState() {
        return refresh(nanoClock.getAsLong()).kind();
    }

    /** Asks to make one call. Never blocks. */
    Decision tryAcquire() {
        long now = nanoClock.getAsLong();
        while (true) {
            State current = refresh(now);
            switch (current) {
                case Closed closed -> {
                    return new Permit(closed, now);
                }
                case Open open -> {
                    return new Denied(Kind.OPEN, open.halfOpenAtNanos - now);
                }
                case HalfOpen halfOpen -> {
                    if (halfOpen.tryTakePermit()) {
                        return new Permit(halfOpen, now);
                    }
                    if (state.get() == halfOpen) {
                        return new Denied(Kind.HALF_OPEN, HALF_OPEN_RETRY_NANOS);
                    }
                    // The trial ended while we asked: ask the state it ended in.
                }
            }
        }
    }

    /** Records the outcome of a call {@link #tryAcquire()} permitted, answered now. Call exactly once per permit. */
    void onResult(Permit permit, Outcome outcome) {
        long now = nanoClock.getAsLong();
        onResult(permit, outcome, now);
    }

    /**
     * Records the outcome of a call that was answered at {@code answeredNanos} (on the nano clock) and judged later: a
     * streamed answer, whose failure shows only at its end. Its slowness is the backend's time to answer, not the
     * time the client took to read the stream. Call exactly once per permit.
     */
    void onResult(Permit permit, Outcome outcome, long answeredNanos) {
        long now = nanoClock.getAsLong();
        boolean slow = answeredNanos - permit.startNanos >= slowCallNanos;
        switch (permit.grantedIn) {
            case Closed closed -> recordClosed(closed, now, outcome, slow);
            case HalfOpen halfOpen -> recordHalfOpen(halfOpen, now, outcome, slow);
            case Open open -> throw new IllegalStateException("circuit breaker '" + name + "': an open circuit "
                    + "permitted a call");
        }
    }

    private void recordClosed(Closed closed, long now, Outcome outcome, boolean slow) {
        if (outcome == Outcome.IGNORED) {
            return;
        }
        SlidingWindow.Snapshot window = closed.window().record(now, outcome == Outcome.FAILURE, slow);
        if (window.calls() < config.minimumCalls()) {
            return;
        }
        String reason = thresholdReached(window);
        if (reason != null) {
            transition(closed, openFrom(now), reason);
        }
    }

    private void recordHalfOpen(HalfOpen halfOpen, long now, Outcome outcome, boolean slow) {
        if (refresh(now) != halfOpen) {
            // The trial this call belonged to is over: its result no longer matters.
            return;
        }
        if (outcome == Outcome.IGNORED) {
            halfOpen.permitsLeft.incrementAndGet();
            return;
        }
        if (outcome == Outcome.FAILURE) {
            halfOpen.failures.incrementAndGet();
        }
        if (slow) {
            halfOpen.slowCalls.incrementAndGet();
        }
        int permitted = config.permittedCallsInHalfOpen();
        if (halfOpen.completed.incrementAndGet() != permitted) {
            return;
        }
        // The last trial call: every other one counted its failure and slowness before it counted as completed.
        SlidingWindow.Snapshot trial = new SlidingWindow.Snapshot(permitted, halfOpen.failures.get(),
                halfOpen.slowCalls.get());
        String reason = thresholdReached(trial);
        if (reason != null) {
            transition(halfOpen, openFrom(now), reason + " in half-open");
        } else {
            transition(halfOpen, new Closed(SlidingWindow.of(config)), String.format(Locale.ROOT,
                    "%d trial calls: failure rate %.1f%%, slow-call rate %.1f%%", permitted, trial.failureRate(),
                    trial.slowCallRate()));
        }
    }

    /** Why {@code window}'s rates open the circuit, or {@code null} when they do not. */
    private String thresholdReached(SlidingWindow.Snapshot window) {
        if (window.failureRate() >= config.failureRateThreshold()) {
            return String.format(Locale.ROOT, "failure rate %.1f%% of %d calls reached the threshold of %d%%",
                    window.failureRate(), window.calls(), config.failureRateThreshold());
        }
        if (window.slowCallRate() >= config.slowCallRateThreshold()) {
            return String.format(Locale.ROOT, "slow-call rate %.1f%% of %d calls reached the threshold of %d%%",
                    window.slowCallRate(), window.calls(), config.slowCallRateThreshold());
        }
        return null;
    }

    /** Makes the time-driven move that is due at {@code now}, if any, and returns the state that holds then. */
    private State refresh(long now) {
        while (true) {
            State current = state.get();
            if (current instanceof Open open && now - open.halfOpenAtNanos >= 0) {
                transition(open, new HalfOpen(now, config.permittedCallsInHalfOpen()),
                        "wait-in-open of " + config.waitInOpen().toMillis() + "ms elapsed");
            } else if (current instanceof HalfOpen halfOpen && maxWaitInHalfOpenNanos > 0
                    && now - halfOpen.sinceNanos >= maxWaitInHalfOpenNanos) {
                transition(halfOpen, openFrom(now), "trial calls did not complete within max-wait-in-half-open of "
                        + config.maxWaitInHalfOpen().toMillis() + "ms");
            } else {
                return current;
            }
        }
    }

    private Open openFrom(long now) {
        return new Open(now + waitInOpenNanos);
    }

    /**
     * Moves the circuit to {@code target} now, as an operator would force it. Only legal moves are made.
     *
     * @return whether this call made the move (false when another thread moved the circuit first)
     * @throws IllegalStateException when the circuit may not move from its state to {@code target}
     */
    boolean transitionTo(Kind target, String reason) {
        long now = nanoClock.getAsLong();
        State current = state.get();
        State next = switch (target) {
            case CLOSED -> new Closed(SlidingWindow.of(config));
            case OPEN -> openFrom(now);
            case HALF_OPEN -> new HalfOpen(now, config.permittedCallsInHalfOpen());
        };
        return transition(current, next, reason);
    }

    /**
     * The one place the state changes: from {@code from}, the state the caller saw, to {@code to}. The move is checked
     * against the legal moves before anything changes, and made only if {@code from} is still the state, so a caller
     * acting on a state another thread has already left changes nothing.
     *
     * @return whether the move was made
     * @throws IllegalStateException when {@code from} may not move to {@code to}
     */
    private boolean transition(State from, State to, String reason) {
        if (!from.kind().canMoveTo(to.kind())) {
            throw new IllegalStateException("circuit breaker '" + name + "': illegal transition from "
                    + from.kind().label() + " to " + to.kind().label());
        }
        if (!state.compareAndSet(from, to)) {
            return false;
        }
        listener.onTransition(from.kind(), to.kind(), reason);
        return true;
    }

    @Override
    public String toString() {
        return "CircuitBreaker[" + name + ", " + state().label() + "]";
    }
}
