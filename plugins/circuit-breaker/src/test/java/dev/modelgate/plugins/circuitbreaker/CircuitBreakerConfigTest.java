package dev.modelgate.plugins.circuitbreaker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class CircuitBreakerConfigTest {

    private static String rejection(org.junit.jupiter.api.function.Executable build) {
        return assertThrows(CircuitBreakerConfig.InvalidValueException.class, build).getMessage();
    }

    @Test
    void defaultsAreResilience4jLike() {
        CircuitBreakerConfig config = CircuitBreakerConfig.ofDefaults();

        assertEquals(CircuitBreakerConfig.WindowType.COUNT, config.windowType());
        assertEquals(100, config.windowSize());
        assertEquals(10, config.minimumCalls());
        assertEquals(50, config.failureRateThreshold());
        assertEquals(100, config.slowCallRateThreshold());
        assertEquals(Duration.ofSeconds(60), config.waitInOpen());
        assertEquals(Duration.ZERO, config.maxWaitInHalfOpen());
    }

    @Test
    void rejectsRatesOutsideOneToAHundredPercentByName() {
        assertEquals("failure-rate-threshold must be between 1 and 100, but was 120",
                rejection(() -> CircuitBreakerConfig.builder().failureRateThreshold(120)));
        assertEquals("slow-call-rate-threshold must be between 1 and 100, but was 0",
                rejection(() -> CircuitBreakerConfig.builder().slowCallRateThreshold(0)));
    }

    @Test
    void rejectsDurationsThatAreNotPositive() {
        assertEquals("wait-in-open must be positive, but was 0ms",
                rejection(() -> CircuitBreakerConfig.builder().waitInOpen(Duration.ZERO)));
        assertEquals("slow-call-duration must be positive, but was -5ms",
                rejection(() -> CircuitBreakerConfig.builder().slowCallDuration(Duration.ofMillis(-5))));
        assertEquals("max-wait-in-half-open must not be negative, but was -1ms",
                rejection(() -> CircuitBreakerConfig.builder().maxWaitInHalfOpen(Duration.ofMillis(-1))));
    }

    @Test
    void rejectsATimeWindowThatIsNotWholeSeconds() {
        assertEquals("window-size must be a whole number of seconds in a time window, but was 1500ms",
                rejection(() -> CircuitBreakerConfig.builder().timeWindow(Duration.ofMillis(1500))));
        assertEquals("window-size must be at most 1h in a time window, but was 3601s",
                rejection(() -> CircuitBreakerConfig.builder().timeWindow(Duration.ofSeconds(3601))));
    }

    @Test
    void rejectsMoreMinimumCallsThanACountWindowHolds() {
        assertEquals("minimum-calls must not be more than window-size (10) in a count window, but was 20",
                rejection(() -> CircuitBreakerConfig.builder().countWindow(10).minimumCalls(20).build()));
    }

    @Test
    void judgesASmallCountWindowWhenFullByDefault() {
        assertEquals(4, CircuitBreakerConfig.builder().countWindow(4).build().minimumCalls());
        assertEquals(20, CircuitBreakerConfig.builder().timeWindow(Duration.ofSeconds(5)).minimumCalls(20).build()
                .minimumCalls());
    }

    @Test
    void keepsTheEarlierValueWhenASetterRejectsOne() {
        CircuitBreakerConfig.Builder builder = CircuitBreakerConfig.builder().failureRateThreshold(30);

        assertThrows(IllegalArgumentException.class, () -> builder.failureRateThreshold(101));

        assertEquals(30, builder.build().failureRateThreshold());
    }
}
