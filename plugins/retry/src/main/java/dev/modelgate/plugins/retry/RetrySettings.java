package dev.modelgate.plugins.retry;

import dev.modelgate.spi.ConfigNode;
import dev.modelgate.spi.CoreErrors;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.random.RandomGenerator;
import java.util.regex.Pattern;

/**
 * When and how an idempotent request is tried again.
 *
 * @param attempts the most times one request runs the rest of the pipeline, the first included; 1 means no retry
 * @param budgetPercent retries may add at most this percentage to the requests of the last
 *     {@link RetryBudget#WINDOW_SECONDS} seconds
 * @param minRetriesPerSecond retries allowed on top of the percentage, so that a backend with little traffic still
 *     gets some
 * @param baseBackoff the cap of the first backoff; each further retry doubles it
 * @param maxBackoff the largest cap
 * @param retryOn the gateway codes of the responses worth another attempt
 */
record RetrySettings(int attempts, int budgetPercent, int minRetriesPerSecond, Duration baseBackoff,
        Duration maxBackoff, Set<Integer> retryOn) {

    /**
     * Failures another instance, or the same one a little later, may well not repeat: unreachable, too slow, a 5xx
     * answer, an unreadable or broken-off answer (retried, like all of these, only for idempotent routes). A 4xx
     * answer (40006) would only come again, and so would an answer over max-response-size (40011).
     */
    static final List<Integer> DEFAULT_RETRY_ON = List.of(CoreErrors.BACKEND_UNAVAILABLE.code(),
            CoreErrors.BACKEND_TIMEOUT.code(), CoreErrors.BACKEND_ERROR.code(), CoreErrors.BACKEND_BAD_RESPONSE.code(),
            CoreErrors.BACKEND_ANSWER_BROKEN.code());

    private static final Pattern CODE = Pattern.compile("[1-9][0-9]{4}");

    RetrySettings {
        retryOn = Set.copyOf(retryOn);
    }

    /** Reads and validates {@code config}, reporting each bad value by key and using its default instead. */
    static RetrySettings from(ConfigNode config) {
        int attempts = config.integer("attempts", 2, 1, 10);
        int budgetPercent = config.integer("budget-percent", 20, 0, 100);
        int minRetriesPerSecond = config.integer("min-retries-per-second", 3, 0, 1000);
        Duration baseBackoff = config.duration("base-backoff", Duration.ofMillis(25));
        // Envoy's default: ten times the base.
        Duration maxBackoff = config.duration("max-backoff", baseBackoff.multipliedBy(10));
        if (maxBackoff.compareTo(baseBackoff) < 0) {
            config.problem("max-backoff", "must not be shorter than base-backoff (" + baseBackoff.toMillis()
                    + "ms), but was " + maxBackoff.toMillis() + "ms");
        }
        return new RetrySettings(attempts, budgetPercent, minRetriesPerSecond, baseBackoff, maxBackoff,
                retryOn(config));
    }

    private static Set<Integer> retryOn(ConfigNode config) {
        // Read first, so that the key is known even when absent.
        List<String> texts = config.strings("retry-on");
        if (!config.has("retry-on")) {
            return Set.copyOf(DEFAULT_RETRY_ON);
        }
        if (texts.isEmpty()) {
            config.problem("retry-on", "must list at least one code; to retry nothing, leave the filter out");
        }
        Set<Integer> codes = new LinkedHashSet<>();
        for (String text : texts) {
            if (CODE.matcher(text.strip()).matches()) {
                codes.add(Integer.parseInt(text.strip()));
            } else {
                config.problem("retry-on", "must list five-digit gateway codes such as 40003, but '" + text
                        + "' is not one");
            }
        }
        return codes;
    }

    /** Whether a response with gateway code {@code code} is worth another attempt. */
    boolean retries(int code) {
        return retryOn.contains(code);
    }

    /**
     * The pause before retry number {@code retry} (1 for the first): "full jitter", uniformly random between zero and
     * {@code min(max-backoff, base-backoff * 2^(retry-1))}, so that clients that failed together do not retry
     * together.
     */
    Duration backoff(int retry, RandomGenerator random) {
        long base = baseBackoff.toNanos();
        long max = maxBackoff.toNanos();
        // Doubling past the cap (or past 62 bits) changes nothing but the risk of overflow.
        int doublings = Math.min(retry - 1, 62);
        long cap = base > max >> doublings ? max : Math.min(max, base << doublings);
        return Duration.ofNanos(Math.min(cap, (long) (random.nextDouble() * (cap + 1))));
    }
}
