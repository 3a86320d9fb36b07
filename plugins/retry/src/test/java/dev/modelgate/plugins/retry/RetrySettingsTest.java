package dev.modelgate.plugins.retry;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.util.Set;
import java.util.random.RandomGenerator;
import org.junit.jupiter.api.Test;

/** Full-jitter backoff with randomness fixed at its extremes. */
class RetrySettingsTest {

    private static final RetrySettings RETRY =
            new RetrySettings(5, 20, 3, Duration.ofMillis(25), Duration.ofMillis(250), Set.of());

    /** Randomness that always draws {@code fraction} of the range. */
    private static RandomGenerator fixed(double fraction) {
        return new RandomGenerator() {
            @Override
            public long nextLong() {
                throw new UnsupportedOperationException("backoff draws doubles");
            }

            @Override
            public double nextDouble() {
                return fraction;
            }
        };
    }

    private static final double HIGHEST = Math.nextDown(1.0);

    @Test
    void theLowestDrawRetriesAtOnce() {
        for (int retry = 1; retry <= 10; retry++) {
            assertEquals(Duration.ZERO, RETRY.backoff(retry, fixed(0)));
        }
    }

    @Test
    void theHighestDrawDoublesFromTheBaseUpToTheMaximum() {
        assertEquals(Duration.ofMillis(25), RETRY.backoff(1, fixed(HIGHEST)));
        assertEquals(Duration.ofMillis(50), RETRY.backoff(2, fixed(HIGHEST)));
        assertEquals(Duration.ofMillis(100), RETRY.backoff(3, fixed(HIGHEST)));
        assertEquals(Duration.ofMillis(200), RETRY.backoff(4, fixed(HIGHEST)));
        assertEquals(Duration.ofMillis(250), RETRY.backoff(5, fixed(HIGHEST)));
        assertEquals(Duration.ofMillis(250), RETRY.backoff(100, fixed(HIGHEST)), "no overflow past 62 doublings");
    }

    @Test
    void aMiddleDrawIsThatShareOfTheCap() {
        assertEquals(Duration.ofMillis(50), RETRY.backoff(3, fixed(0.5)));
    }
}
