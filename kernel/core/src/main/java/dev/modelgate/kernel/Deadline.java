package dev.modelgate.kernel;

import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * When a request's answer is due: the route's {@code timeout}, shortened by a client's {@code X-Request-Timeout}
 * (a client may ask for less time than the route allows, never more).
 *
 * @param nanos the {@link System#nanoTime()} deadline, {@link Long#MAX_VALUE} for none
 * @param invalid whether the client's header could not be read
 */
record Deadline(long nanos, boolean invalid) {

    static final String HEADER = "X-Request-Timeout";
    static final String FORMAT = "give whole milliseconds, optionally with a unit: 1500, 1500ms or 2s";
    private static final Pattern VALUE = Pattern.compile("(\\d{1,9})(ms|s)?");

    static Deadline of(long startNanos, Duration routeTimeout, String clientTimeout) {
        long budget = routeTimeout == null ? Long.MAX_VALUE : saturatedNanos(routeTimeout);
        if (clientTimeout != null) {
            Matcher matcher = VALUE.matcher(clientTimeout.strip());
            if (!matcher.matches()) {
                return new Deadline(Long.MAX_VALUE, true);
            }
            long amount = Long.parseLong(matcher.group(1));
            long requested = "s".equals(matcher.group(2)) ? Duration.ofSeconds(amount).toNanos()
                    : Duration.ofMillis(amount).toNanos();
            budget = Math.min(budget, requested);
        }
        return new Deadline(budget == Long.MAX_VALUE ? Long.MAX_VALUE : startNanos + budget, false);
    }

    /** The route's deadline, or the client's own {@code clientDeadlineNanos} when that comes first. */
    static Deadline of(long startNanos, Duration routeTimeout, long clientDeadlineNanos) {
        Deadline route = of(startNanos, routeTimeout, (String) null);
        return clientDeadlineNanos != Long.MAX_VALUE && (route.nanos == Long.MAX_VALUE
                || clientDeadlineNanos - route.nanos < 0) ? new Deadline(clientDeadlineNanos, false) : route;
    }

    /** Beyond about 292 years a timeout is as good as none. */
    private static long saturatedNanos(Duration duration) {
        try {
            return duration.toNanos();
        } catch (ArithmeticException e) {
            return Long.MAX_VALUE;
        }
    }
}
