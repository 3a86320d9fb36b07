package dev.modelgate.plugins.circuitbreaker;

import static dev.modelgate.plugins.circuitbreaker.CircuitBreaker.Kind.CLOSED;
import static dev.modelgate.plugins.circuitbreaker.CircuitBreaker.Kind.OPEN;
import static dev.modelgate.plugins.circuitbreaker.CircuitBreaker.Outcome.FAILURE;
import static dev.modelgate.plugins.circuitbreaker.CircuitBreaker.Outcome.SUCCESS;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.modelgate.spi.Body;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * How one streamed call counts, on a breaker that opens on its first failure or slow call (or, where a test says so,
 * on its second), and a nano clock the tests advance.
 */
class StreamVerdictTest {

    private final AtomicLong clock = new AtomicLong(1_000_000_000L);

    private CircuitBreaker breaker(int minimumCalls) {
        return new CircuitBreaker("stream", CircuitBreakerConfig.builder().countWindow(2).minimumCalls(minimumCalls)
                .failureRateThreshold(50).slowCallRateThreshold(50).slowCallDuration(Duration.ofSeconds(1))
                .build(), clock::get, (from, to, reason) -> { });
    }

    private StreamVerdict verdict(CircuitBreaker breaker, CircuitBreaker.Outcome whenWhole) {
        CircuitBreaker.Permit permit = assertInstanceOf(CircuitBreaker.Permit.class, breaker.tryAcquire());
        return new StreamVerdict(breaker, permit, whenWhole, clock.get());
    }

    /** A body of two chunks; the backend breaks off after the first when {@code breaks}. */
    private static Body twoChunks(boolean breaks) {
        return new Body() {
            @Override
            public long length() {
                return -1;
            }

            @Override
            public void writeTo(OutputStream out) throws IOException {
                out.write(new byte[] {1});
                if (breaks) {
                    throw new IOException("the backend went away");
                }
                out.write(new byte[] {2});
            }
        };
    }

    /** A client that takes nothing: it hung up. */
    private static OutputStream hungUp() {
        return new OutputStream() {
            @Override
            public void write(int b) throws IOException {
                throw new IOException("broken pipe");
            }
        };
    }

    @Test
    void aBodyWrittenWholeCountsAsItsStatusSays() throws Exception {
        CircuitBreaker healthy = breaker(1);
        CircuitBreaker failing = breaker(1);

        verdict(healthy, SUCCESS).watch(twoChunks(false)).writeTo(new ByteArrayOutputStream());
        verdict(failing, FAILURE).watch(twoChunks(false)).writeTo(new ByteArrayOutputStream());

        assertEquals(CLOSED, healthy.state());
        assertEquals(OPEN, failing.state());
    }

    @Test
    void aBodyTheBackendBreaksOffCountsAsAFailureAndTheErrorGoesOn() {
        CircuitBreaker breaker = breaker(1);
        Body body = verdict(breaker, SUCCESS).watch(twoChunks(true));

        assertThrows(IOException.class, () -> body.writeTo(new ByteArrayOutputStream()));

        assertEquals(OPEN, breaker.state());
    }

    @Test
    void aClientThatHangsUpDoesNotCountAgainstTheBackend() {
        CircuitBreaker breaker = breaker(1);
        Body body = verdict(breaker, SUCCESS).watch(twoChunks(false));

        assertThrows(IOException.class, () -> body.writeTo(hungUp()));

        assertEquals(CLOSED, breaker.state());
        verdict(breaker, FAILURE).onComplete();
        assertEquals(OPEN, breaker.state(), "the hung-up call was not recorded, so this one decides");
    }

    @Test
    void aBodyNeverWrittenIsJudgedByItsStatusWhenTheExchangeCompletes() {
        CircuitBreaker breaker = breaker(1);

        verdict(breaker, FAILURE).onComplete();

        assertEquals(OPEN, breaker.state());
    }

    @Test
    void aCallIsJudgedOnceHoweverItEnds() {
        CircuitBreaker breaker = breaker(2);
        StreamVerdict verdict = verdict(breaker, FAILURE);

        assertThrows(IOException.class, () -> verdict.watch(twoChunks(true)).writeTo(new ByteArrayOutputStream()));
        verdict.onComplete();

        assertEquals(CLOSED, breaker.state(), "one failure of the two calls the breaker waits for");
    }

    @Test
    void aStreamIsSlowOnlyWhenTheBackendWasSlowToAnswerNotWhenTheClientReadsSlowly() throws Exception {
        CircuitBreaker breaker = breaker(1);
        StreamVerdict verdict = verdict(breaker, SUCCESS);

        clock.addAndGet(Duration.ofMinutes(1).toNanos());
        verdict.watch(twoChunks(false)).writeTo(new ByteArrayOutputStream());

        assertEquals(CLOSED, breaker.state());
    }
}
