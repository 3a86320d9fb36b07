package dev.modelgate.plugins.ratelimit;

import java.util.List;

/**
 * What a {@link Limiter} decided for one request, with what the {@code RateLimit-*} headers announce: the values of
 * the most restrictive limit. Immutable.
 *
 * @param verdict whether the request goes on
 * @param limit the announcing limit's burst ({@code RateLimit-Limit}); 0 when no store decided
 * @param remaining requests that limit still admits now ({@code RateLimit-Remaining})
 * @param resetNanos until that limit is full again ({@code RateLimit-Reset})
 * @param retryAfterNanos until the request would be admitted, when {@link Verdict#DENIED}; 0 otherwise
 */
record Decision(Verdict verdict, int limit, long remaining, long resetNanos, long retryAfterNanos) {

    enum Verdict {
        /** Every limit admitted the request and was charged for it. */
        ALLOWED,
        /** Some limit refused it; no limit was charged. */
        DENIED,
        /** The store could not decide and policy {@code fail-open} lets the request on, uncounted. */
        UNCHECKED,
        /** The store could not decide and policy {@code fail-closed} refuses the request. */
        UNAVAILABLE
    }

    static final Decision UNCHECKED = new Decision(Verdict.UNCHECKED, 0, 0, 0, 0);
    static final Decision UNAVAILABLE = new Decision(Verdict.UNAVAILABLE, 0, 0, 0, 0);

    /**
     * What one limit alone said about a request.
     *
     * @param remaining requests it admits after this one (when admitted) or now (when not)
     * @param resetNanos until it is full again
     * @param retryAfterNanos until it would admit the request; 0 when it did
     */
    record Outcome(boolean admitted, long remaining, long resetNanos, long retryAfterNanos) {
    }

    /**
     * Combines the outcomes of {@code limits}, in order: admitted when all admitted. The announced limit is the one
     * with the fewest remaining requests (the latest reset on a tie); when denied, it is the refusing limit that
     * keeps the request waiting longest, and that wait is the {@code Retry-After}.
     */
    static Decision of(List<Limit> limits, Outcome[] outcomes) {
        return of(limits.stream().mapToInt(Limit::burst).toArray(), outcomes);
    }

    /** As {@link #of(List, Outcome[])}, with each limit given by the value its {@code RateLimit-Limit} announces. */
    static Decision of(int[] announced, Outcome[] outcomes) {
        boolean admitted = true;
        for (Outcome outcome : outcomes) {
            admitted &= outcome.admitted();
        }
        int chosen = -1;
        for (int i = 0; i < outcomes.length; i++) {
            Outcome outcome = outcomes[i];
            if (admitted ? chosen < 0 || moreRestrictive(outcome, outcomes[chosen])
                    : !outcome.admitted() && (chosen < 0 || outcome.retryAfterNanos() > outcomes[chosen]
                            .retryAfterNanos())) {
                chosen = i;
            }
        }
        Outcome chosenOutcome = outcomes[chosen];
        return new Decision(admitted ? Verdict.ALLOWED : Verdict.DENIED, announced[chosen],
                chosenOutcome.remaining(), chosenOutcome.resetNanos(), admitted ? 0 : chosenOutcome.retryAfterNanos());
    }

    private static boolean moreRestrictive(Outcome candidate, Outcome current) {
        return candidate.remaining() < current.remaining()
                || candidate.remaining() == current.remaining() && candidate.resetNanos() > current.resetNanos();
    }

    /** Whole seconds, rounded up: a client that waits that long is never early. */
    static long ceilSeconds(long nanos) {
        return nanos <= 0 ? 0 : (nanos - 1) / 1_000_000_000L + 1;
    }
}
