package dev.modelgate.plugins.retry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.time.Duration;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The retry budget on a nanoTime the test advances. */
class RetryBudgetTest {

    private final AtomicLong now = new AtomicLong(123_456_789L);

    private RetryBudget budget(int percent, int minPerSecond) {
        return new RetryBudget(new RetrySettings(3, percent, minPerSecond, Duration.ofMillis(25),
                Duration.ofMillis(250), Set.of()), now::get);
    }

    private static void requests(RetryBudget budget, int count) {
        for (int i = 0; i < count; i++) {
            budget.recordRequest();
        }
    }

    private static int retriesAllowed(RetryBudget budget) {
        int allowed = 0;
        while (budget.tryRetry()) {
            allowed++;
        }
        return allowed;
    }

    @Test
    void retriesAreCappedAtTheBudgetsShareOfRequests() {
        RetryBudget budget = budget(20, 0);
        requests(budget, 50);

        assertEquals(10, retriesAllowed(budget));
    }

    @Test
    void theFloorAllowsSomeRetriesWithoutTraffic() {
        RetryBudget budget = budget(20, 1);

        assertEquals(RetryBudget.WINDOW_SECONDS, retriesAllowed(budget));
    }

    @Test
    void requestsAndRetriesLeaveTheWindowAfterItsLength() {
        RetryBudget budget = budget(50, 0);
        requests(budget, 10);
        assertEquals(5, retriesAllowed(budget));

        now.addAndGet(Duration.ofSeconds(RetryBudget.WINDOW_SECONDS - 1).toNanos());
        assertFalse(budget.tryRetry(), "still spent within the window");

        now.addAndGet(Duration.ofSeconds(1).toNanos());
        requests(budget, 2);
        assertEquals(1, retriesAllowed(budget), "only the new requests count");
    }

    // System.nanoTime may sit anywhere: from the second origin the window slides past its wrap to Long.MIN_VALUE.
    @ParameterizedTest(name = "nanoTime from {0}")
    @ValueSource(longs = {123_456_789L, Long.MAX_VALUE - 3_000_000_000L})
    void theWindowSlidesASecondAtATime(long origin) {
        now.set(origin);
        RetryBudget budget = budget(100, 0);
        requests(budget, 4);
        now.addAndGet(Duration.ofSeconds(5).toNanos());
        requests(budget, 6);
        now.addAndGet(Duration.ofSeconds(5).toNanos());

        assertEquals(6, retriesAllowed(budget), "the first four requests left the window");
    }

    @Test
    void aZeroBudgetWithoutFloorAllowsNoRetry() {
        RetryBudget budget = budget(0, 0);
        requests(budget, 1000);

        assertFalse(budget.tryRetry());
    }
}
