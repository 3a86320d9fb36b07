package dev.modelgate.plugins.pool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** Ejection on a nanoTime the test advances. */
class OutlierDetectorTest {

    private static final Duration BASE = Duration.ofSeconds(30);
    private static final Duration MAX = Duration.ofSeconds(100);

    private final AtomicLong now = new AtomicLong(-5_000_000_000L);

    private OutlierDetector detector(int instances, int maxEjectionPercent) {
        return new OutlierDetector(new OutlierDetectionSettings(3, BASE, MAX, maxEjectionPercent),
                instances, now::get);
    }

    private void advance(Duration duration) {
        now.addAndGet(duration.toNanos());
    }

    private static long fail(OutlierDetector detector, int index, int times) {
        long ejectedFor = 0;
        for (int i = 0; i < times; i++) {
            ejectedFor = detector.recordFailure(index);
        }
        return ejectedFor;
    }

    @Test
    void anInstanceIsEjectedAfterTheConfiguredConsecutiveFailures() {
        OutlierDetector detector = detector(2, 50);

        assertEquals(0, fail(detector, 0, 2));
        assertFalse(detector.ejected(0));
        assertEquals(BASE.toNanos(), detector.recordFailure(0));
        assertTrue(detector.ejected(0));
        assertFalse(detector.ejected(1));
    }

    @Test
    void aSuccessResetsTheCount() {
        OutlierDetector detector = detector(2, 50);

        fail(detector, 0, 2);
        detector.recordSuccess(0);
        fail(detector, 0, 2);

        assertFalse(detector.ejected(0));
    }

    @Test
    void anEjectedInstanceReturnsWhenItsTimeIsUp() {
        OutlierDetector detector = detector(2, 50);
        fail(detector, 0, 3);

        advance(BASE.minusMillis(1));
        assertTrue(detector.ejected(0));
        advance(Duration.ofMillis(1));
        assertFalse(detector.ejected(0));
    }

    @Test
    void anEjectionEndingPastTheWrapOfTheTimeSourceLastsItsTime() {
        // System.nanoTime may sit anywhere, so an ejection may end past its wrap from Long.MAX_VALUE to MIN_VALUE.
        now.set(Long.MAX_VALUE - BASE.dividedBy(2).toNanos());
        OutlierDetector detector = detector(2, 50);
        fail(detector, 0, 3);

        assertTrue(detector.ejected(0), "ejected until past the wrap");
        advance(BASE.minusMillis(1));
        assertTrue(detector.ejected(0));
        advance(Duration.ofMillis(1));
        assertFalse(detector.ejected(0));
    }

    @Test
    void eachEjectionLastsLongerUpToTheMaximum() {
        OutlierDetector detector = detector(2, 50);

        assertEquals(BASE.toNanos(), fail(detector, 0, 3));
        advance(BASE);
        assertEquals(BASE.multipliedBy(2).toNanos(), fail(detector, 0, 3));
        advance(BASE.multipliedBy(2));
        assertEquals(BASE.multipliedBy(3).toNanos(), fail(detector, 0, 3));
        advance(BASE.multipliedBy(3));
        assertEquals(MAX.toNanos(), fail(detector, 0, 3), "capped at max-ejection-time");
    }

    @Test
    void anInstanceThatStaysHealthyEarnsShorterEjectionsBack() {
        OutlierDetector detector = detector(2, 50);
        fail(detector, 0, 3);
        advance(BASE);
        fail(detector, 0, 3);
        advance(BASE.multipliedBy(2));

        advance(BASE.multipliedBy(2));

        assertEquals(BASE.toNanos(), fail(detector, 0, 3), "two base times in without ejection took two off");
    }

    @Test
    void noMoreThanTheMaximumShareOfInstancesIsEjected() {
        OutlierDetector detector = detector(4, 50);
        fail(detector, 0, 3);
        fail(detector, 1, 3);

        assertEquals(0, fail(detector, 2, 10));
        assertFalse(detector.ejected(2));

        advance(BASE);
        assertTrue(detector.recordFailure(2) > 0, "ejected once another instance came back");
    }

    @Test
    void oneInstanceMayAlwaysBeEjected() {
        OutlierDetector detector = detector(3, 10);

        fail(detector, 0, 3);
        fail(detector, 1, 3);

        assertTrue(detector.ejected(0));
        assertFalse(detector.ejected(1));
    }

    @Test
    void withoutSettingsNothingIsEverEjected() {
        OutlierDetector detector = new OutlierDetector(null, 1, now::get);

        assertEquals(0, fail(detector, 0, 100));
        assertFalse(detector.ejected(0));
    }
}
