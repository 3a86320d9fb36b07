package dev.modelgate.plugins.jwt;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicReference;

/** A clock that stands still until a test advances it, or ticks on every reading once told to. Thread-safe. */
final class MutableClock extends Clock {

    private final AtomicReference<Instant> now;
    private volatile Duration tick = Duration.ZERO;

    MutableClock(Instant start) {
        this.now = new AtomicReference<>(start);
    }

    void advance(Duration duration) {
        now.updateAndGet(instant -> instant.plus(duration));
    }

    /** From now on every reading is {@code step} later than the one before: time passes between any two steps. */
    void tickOnEveryReading(Duration step) {
        tick = step;
    }

    @Override
    public Instant instant() {
        Duration step = tick;
        return now.getAndUpdate(instant -> instant.plus(step));
    }

    @Override
    public ZoneId getZone() {
        return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
        throw new UnsupportedOperationException("tests read instants only");
    }
}
