package dev.modelgate.plugins.circuitbreaker;

import static dev.modelgate.plugins.circuitbreaker.CircuitBreaker.Kind.CLOSED;
import static dev.modelgate.plugins.circuitbreaker.CircuitBreaker.Kind.HALF_OPEN;
import static dev.modelgate.plugins.circuitbreaker.CircuitBreaker.Kind.OPEN;
import static dev.modelgate.plugins.circuitbreaker.CircuitBreaker.Outcome.FAILURE;
import static dev.modelgate.plugins.circuitbreaker.CircuitBreaker.Outcome.IGNORED;
import static dev.modelgate.plugins.circuitbreaker.CircuitBreaker.Outcome.SUCCESS;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The state machine alone, on a nano clock the tests advance: no test here waits for real time to pass. */
class CircuitBreakerTest {

    private static final Duration WAIT_IN_OPEN = Duration.ofSeconds(30);

    private final AtomicLong clock = new AtomicLong(1_000_000_000L);
    private final List<String> transitions = new CopyOnWriteArrayList<>();

    /** Count window of 10, judged from 4 calls, opens at 50% failures, 2 trial calls. */
    private CircuitBreakerConfig.Builder settings() {
        return CircuitBreakerConfig.builder()
                .countWindow(10)
                .minimumCalls(4)
                .failureRateThreshold(50)
                .waitInOpen(WAIT_IN_OPEN)
                .permittedCallsInHalfOpen(2);
    }

    private CircuitBreaker breaker(CircuitBreakerConfig.Builder settings) {
        return new CircuitBreaker("tf-main", settings.build(), clock::get,
                (from, to, reason) -> transitions.add(from.label() + " -> " + to.label()));
    }

    private void advance(Duration duration) {
        clock.addAndGet(duration.toNanos());
    }

    private static CircuitBreaker.Permit permit(CircuitBreaker breaker) {
        return assertInstanceOf(CircuitBreaker.Permit.class, breaker.tryAcquire());
    }

    private static CircuitBreaker.Denied denied(CircuitBreaker breaker) {
        return assertInstanceOf(CircuitBreaker.Denied.class, breaker.tryAcquire());
    }

    /** Makes one call at once that ends with {@code outcome}. */
    private static void call(CircuitBreaker breaker, CircuitBreaker.Outcome outcome) {
        breaker.onResult(permit(breaker), outcome);
    }

    private void calls(CircuitBreaker breaker, CircuitBreaker.Outcome... outcomes) {
        for (CircuitBreaker.Outcome outcome : outcomes) {
            call(breaker, outcome);
        }
    }

    private CircuitBreaker openBreaker() {
        CircuitBreaker breaker = breaker(settings());
        calls(breaker, FAILURE, FAILURE, FAILURE, FAILURE);
        assertEquals(OPEN, breaker.state());
        return breaker;
    }

    private CircuitBreaker halfOpenBreaker(CircuitBreakerConfig.Builder settings) {
        CircuitBreaker breaker = breaker(settings);
        calls(breaker, FAILURE, FAILURE, FAILURE, FAILURE);
        advance(WAIT_IN_OPEN);
        assertEquals(HALF_OPEN, breaker.currentState());
        return breaker;
    }

    @Test
    void startsClosedAndPermitsCalls() {
        CircuitBreaker breaker = breaker(settings());

        assertEquals(CLOSED, breaker.state());
        assertEquals(CLOSED, permit(breaker).grantedIn());
    }

    @Test
    void opensWhenTheFailureRateReachesTheThreshold() {
        CircuitBreaker breaker = breaker(settings());

        calls(breaker, SUCCESS, SUCCESS, FAILURE, SUCCESS, FAILURE);
        assertEquals(CLOSED, breaker.state(), "2 failures in 5 calls is 40%");
        call(breaker, FAILURE);

        assertEquals(OPEN, breaker.state(), "3 failures in 6 calls is 50%");
        assertEquals(List.of("closed -> open"), transitions);
    }

    @Test
    void doesNotJudgeBeforeTheMinimumNumberOfCalls() {
        CircuitBreaker breaker = breaker(settings());

        calls(breaker, FAILURE, FAILURE, FAILURE);
        assertEquals(CLOSED, breaker.state(), "3 calls of a minimum of 4, all failed");
        call(breaker, FAILURE);

        assertEquals(OPEN, breaker.state());
    }

    @Test
    void opensWhenTheSlowCallRateReachesTheThreshold() {
        CircuitBreaker breaker = breaker(settings().minimumCalls(2).slowCallDuration(Duration.ofSeconds(2))
                .slowCallRateThreshold(50));

        CircuitBreaker.Permit slow = permit(breaker);
        advance(Duration.ofMillis(1999));
        breaker.onResult(slow, SUCCESS);
        CircuitBreaker.Permit slowest = permit(breaker);
        advance(Duration.ofSeconds(2));
        breaker.onResult(slowest, SUCCESS);
        assertEquals(OPEN, breaker.state(), "1 of 2 calls took 2s: a 50% slow-call rate");
    }

    @Test
    void keepsOnlyTheLastCallsInACountWindow() {
        CircuitBreaker breaker = breaker(settings().countWindow(4).failureRateThreshold(75));

        calls(breaker, FAILURE, FAILURE, SUCCESS, SUCCESS, SUCCESS, FAILURE, FAILURE);
        assertEquals(CLOSED, breaker.state(), "the last 4 calls hold 2 failures");
        call(breaker, FAILURE);

        assertEquals(OPEN, breaker.state(), "the last 4 calls hold 3 failures, although 5 of all 8 calls failed");
    }

    @Test
    void forgetsCallsOlderThanATimeWindow() {
        CircuitBreaker breaker = breaker(settings().timeWindow(Duration.ofSeconds(10)));

        calls(breaker, FAILURE, FAILURE, FAILURE);
        advance(Duration.ofSeconds(10));
        call(breaker, FAILURE);
        assertEquals(CLOSED, breaker.state(), "the first 3 failures left the window: 1 call in it");
        advance(Duration.ofSeconds(9));
        calls(breaker, FAILURE, FAILURE);
        assertEquals(CLOSED, breaker.state());
        call(breaker, FAILURE);

        assertEquals(OPEN, breaker.state(), "4 failures within 10 seconds");
    }

    @Test
    void aTimeWindowIsEmptyAfterALongQuietSpell() {
        CircuitBreaker breaker = breaker(settings().timeWindow(Duration.ofSeconds(5)));

        calls(breaker, FAILURE, FAILURE, FAILURE);
        advance(Duration.ofHours(3));
        calls(breaker, SUCCESS, SUCCESS, SUCCESS, FAILURE);

        assertEquals(CLOSED, breaker.state(), "1 failure in 4 calls");
    }

    @Test
    void ignoredCallsAreNotRecorded() {
        CircuitBreaker breaker = breaker(settings());

        calls(breaker, FAILURE, FAILURE, IGNORED, IGNORED, IGNORED, IGNORED, IGNORED);
        assertEquals(CLOSED, breaker.state(), "2 calls recorded, fewer than the minimum");
        calls(breaker, SUCCESS, SUCCESS);

        assertEquals(OPEN, breaker.state(), "2 failures of 4 recorded calls");
    }

    @Test
    void deniesCallsWhileOpenWithTheTimeLeftUntilHalfOpen() {
        CircuitBreaker breaker = openBreaker();

        assertEquals(new CircuitBreaker.Denied(OPEN, WAIT_IN_OPEN.toNanos()), breaker.tryAcquire());
        advance(Duration.ofSeconds(12));
        assertEquals(new CircuitBreaker.Denied(OPEN, Duration.ofSeconds(18).toNanos()), breaker.tryAcquire());
    }

    @Test
    void movesToHalfOpenOnceTheWaitInOpenHasPassed() {
        CircuitBreaker breaker = openBreaker();

        advance(WAIT_IN_OPEN.minusNanos(1));
        assertEquals(1, denied(breaker).retryAfterNanos());
        advance(Duration.ofNanos(1));

        assertEquals(HALF_OPEN, permit(breaker).grantedIn());
        assertEquals(List.of("closed -> open", "open -> half-open"), transitions);
    }

    @Test
    void reportsHalfOpenWhenAskedAfterTheWaitEvenWithoutCalls() {
        CircuitBreaker breaker = openBreaker();

        advance(WAIT_IN_OPEN);

        assertEquals(OPEN, breaker.state(), "the move is made when the breaker is next consulted");
        assertEquals(HALF_OPEN, breaker.currentState());
    }

    @Test
    void letsOnlyThePermittedTrialCallsThroughWhileHalfOpen() {
        CircuitBreaker breaker = halfOpenBreaker(settings());

        permit(breaker);
        permit(breaker);

        assertEquals(new CircuitBreaker.Denied(HALF_OPEN, CircuitBreaker.HALF_OPEN_RETRY_NANOS), breaker.tryAcquire());
    }

    @Test
    void closesWhenTheTrialCallsSucceed() {
        CircuitBreaker breaker = halfOpenBreaker(settings());
        CircuitBreaker.Permit first = permit(breaker);
        CircuitBreaker.Permit second = permit(breaker);

        breaker.onResult(first, SUCCESS);
        assertEquals(HALF_OPEN, breaker.state(), "one trial call is still out");
        breaker.onResult(second, SUCCESS);

        assertEquals(CLOSED, breaker.state());
        assertEquals(List.of("closed -> open", "open -> half-open", "half-open -> closed"), transitions);
    }

    @Test
    void closesWithAnEmptyWindow() {
        CircuitBreaker breaker = halfOpenBreaker(settings());
        calls(breaker, SUCCESS, SUCCESS);

        calls(breaker, FAILURE, FAILURE, FAILURE);

        assertEquals(CLOSED, breaker.state(), "the failures before the circuit opened are forgotten");
    }

    @Test
    void opensAgainWhenTheTrialCallsFail() {
        CircuitBreaker breaker = halfOpenBreaker(settings());

        calls(breaker, SUCCESS, FAILURE);

        assertEquals(OPEN, breaker.state(), "1 failure in 2 trial calls is 50%");
        assertEquals(List.of("closed -> open", "open -> half-open", "half-open -> open"), transitions);
        assertEquals(WAIT_IN_OPEN.toNanos(), denied(breaker).retryAfterNanos(), "a full wait in open again");
    }

    @Test
    void opensAgainWhenTheTrialCallsAreSlow() {
        CircuitBreaker breaker = halfOpenBreaker(settings().slowCallDuration(Duration.ofSeconds(1))
                .slowCallRateThreshold(100));
        CircuitBreaker.Permit first = permit(breaker);
        CircuitBreaker.Permit second = permit(breaker);

        advance(Duration.ofSeconds(1));
        breaker.onResult(first, SUCCESS);
        breaker.onResult(second, SUCCESS);

        assertEquals(OPEN, breaker.state());
    }

    @Test
    void opensAgainWhenTheTrialCallsDoNotCompleteWithinTheMaxWait() {
        CircuitBreaker breaker = halfOpenBreaker(settings().maxWaitInHalfOpen(Duration.ofSeconds(5)));
        CircuitBreaker.Permit first = permit(breaker);
        CircuitBreaker.Permit second = permit(breaker);
        breaker.onResult(first, SUCCESS);

        advance(Duration.ofSeconds(5));
        assertEquals(OPEN, breaker.currentState());
        breaker.onResult(second, SUCCESS);

        assertEquals(OPEN, breaker.state(), "the late trial call is not counted");
        assertEquals(List.of("closed -> open", "open -> half-open", "half-open -> open"), transitions);
    }

    @Test
    void staysHalfOpenWithoutAMaxWait() {
        CircuitBreaker breaker = halfOpenBreaker(settings());
        permit(breaker);

        advance(Duration.ofDays(1));

        assertEquals(HALF_OPEN, breaker.currentState());
    }

    @Test
    void givesBackTheTrialPermitOfAnIgnoredCall() {
        CircuitBreaker breaker = halfOpenBreaker(settings());
        CircuitBreaker.Permit ignored = permit(breaker);
        CircuitBreaker.Permit succeeded = permit(breaker);

        breaker.onResult(ignored, IGNORED);
        breaker.onResult(succeeded, SUCCESS);
        assertEquals(HALF_OPEN, breaker.state(), "1 of 2 trial calls counted");
        call(breaker, SUCCESS);

        assertEquals(CLOSED, breaker.state());
    }

    @Test
    void dropsTheResultsOfCallsPermittedBeforeTheCircuitMovedOn() {
        CircuitBreaker breaker = breaker(settings());
        CircuitBreaker.Permit early = permit(breaker);
        calls(breaker, FAILURE, FAILURE, FAILURE, FAILURE);
        advance(WAIT_IN_OPEN);
        CircuitBreaker.Permit trial = permit(breaker);

        breaker.onResult(early, FAILURE);
        breaker.onResult(trial, SUCCESS);
        assertEquals(HALF_OPEN, breaker.state(), "the early call is not a trial call");
        call(breaker, SUCCESS);

        assertEquals(CLOSED, breaker.state());
    }

    @Test
    void rejectsIllegalTransitionsAndStaysWhereItWas() {
        CircuitBreaker breaker = breaker(settings());

        IllegalStateException toHalfOpen = assertThrows(IllegalStateException.class,
                () -> breaker.transitionTo(HALF_OPEN, "test"));
        assertThrows(IllegalStateException.class, () -> breaker.transitionTo(CLOSED, "test"));
        assertEquals("circuit breaker 'tf-main': illegal transition from closed to half-open", toHalfOpen.getMessage());
        assertEquals(CLOSED, breaker.state());

        assertTrue(breaker.transitionTo(OPEN, "forced"));
        assertThrows(IllegalStateException.class, () -> breaker.transitionTo(CLOSED, "test"));
        assertThrows(IllegalStateException.class, () -> breaker.transitionTo(OPEN, "test"));
        assertEquals(OPEN, breaker.state());

        assertTrue(breaker.transitionTo(HALF_OPEN, "forced"));
        assertThrows(IllegalStateException.class, () -> breaker.transitionTo(HALF_OPEN, "test"));
        assertTrue(breaker.transitionTo(CLOSED, "forced"));
        assertEquals(List.of("closed -> open", "open -> half-open", "half-open -> closed"), transitions);
    }

    @Test
    void manyThreadsRecordingTogetherOnlyEverMakeLegalMoves() throws Exception {
        Map<String, AtomicInteger> moves = new ConcurrentHashMap<>();
        CircuitBreaker breaker = new CircuitBreaker("tf-main", CircuitBreakerConfig.builder()
                .countWindow(20)
                .minimumCalls(10)
                .failureRateThreshold(50)
                .waitInOpen(Duration.ofMillis(1))
                .permittedCallsInHalfOpen(3)
                .maxWaitInHalfOpen(Duration.ofMillis(2))
                .build(), clock::get,
                (from, to, reason) -> moves.computeIfAbsent(from.label() + " -> " + to.label(),
                        move -> new AtomicInteger()).incrementAndGet());
        int threads = 16;
        CountDownLatch start = new CountDownLatch(1);
        List<Future<?>> workers = new ArrayList<>();
        try (ExecutorService pool = Executors.newFixedThreadPool(threads)) {
            for (int t = 0; t < threads; t++) {
                workers.add(pool.submit(() -> {
                    start.await();
                    ThreadLocalRandom random = ThreadLocalRandom.current();
                    for (int i = 0; i < 20_000; i++) {
                        if (breaker.tryAcquire() instanceof CircuitBreaker.Permit permit) {
                            clock.addAndGet(random.nextLong(20_000));
                            breaker.onResult(permit, random.nextInt(100) < 45 ? FAILURE
                                    : random.nextInt(10) == 0 ? IGNORED : SUCCESS);
                        } else {
                            clock.addAndGet(random.nextLong(20_000));
                        }
                    }
                    return null;
                }));
            }
            start.countDown();
            for (Future<?> worker : workers) {
                worker.get(60, TimeUnit.SECONDS); // rethrows an illegal transition
            }
        }

        CircuitBreaker.Kind last = breaker.state();
        for (CircuitBreaker.Kind kind : CircuitBreaker.Kind.values()) {
            int entered = 0;
            int left = 0;
            for (var move : moves.entrySet()) {
                String[] ends = move.getKey().split(" -> ");
                entered += ends[1].equals(kind.label()) ? move.getValue().get() : 0;
                left += ends[0].equals(kind.label()) ? move.getValue().get() : 0;
            }
            int expected = (kind == last ? 1 : 0) - (kind == CLOSED ? 1 : 0);
            assertEquals(expected, entered - left, kind + ": every move out follows a move in; " + moves);
        }
        assertEquals(java.util.Set.of("closed -> open", "open -> half-open", "half-open -> closed",
                "half-open -> open"), moves.keySet(), "the run went round the whole cycle");
        assertFalse(moves.get("closed -> open").get() < 2, moves.toString());
    }
}
