package dev.modelgate.plugins.ratelimit;

import dev.modelgate.spi.ConfigNode;
import dev.modelgate.spi.ErrorCode;
import dev.modelgate.spi.Exchange;
import dev.modelgate.spi.Middleware;
import dev.modelgate.spi.MiddlewareProvider;
import dev.modelgate.spi.PluginContext;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The {@code token-limit} middleware: LLM tokens per minute and per day for each subject or API key, in process or
 * shared in Redis, with {@code rate-limit}'s store settings and failure policies.
 *
 * <pre>
 * - type: token-limit
 *   key: subject              # subject (default) | api-key | client-ip | route | header:NAME, as rate-limit's
 *   tokens-per-minute: 100000 # at least one of the two; each up to 1000000000
 *   tokens-per-day: 5000000
 *   estimate: 1024            # tokens reserved by a call that sets no max_tokens (default 1024)
 *   store: local              # local (default) | redis; then max-keys, redis-url, redis-timeout, redis-pool-size,
 *                             # redis-backoff, redis-key-prefix (default modelgate:token-limit:PATH:), on-redis-failure
 * </pre>
 *
 * <p>A call reserves its {@code max_completion_tokens} or {@code max_tokens} (times {@code n}), or the estimate,
 * and is refused with 429 {@link #TOKENS_EXHAUSTED} and {@code Retry-After} when a window holds fewer (a call larger
 * than a window waits for it to be full); once answered it is charged the prompt and completion tokens its upstream
 * reported instead ({@link TokenLimitMiddleware}). Each window is a token bucket that refills continuously, so a
 * minute's tokens come back over a minute, a day's over a day. When Redis cannot decide, {@code fail-open} lets calls
 * on uncounted, {@code fail-closed} refuses them with 503 {@link #STORE_UNAVAILABLE}, {@code local} counts them in
 * this instance alone.
 *
 * <p>Metrics, labelled {@code limiter} with this entry's config path: {@code modelgate_token_limit_tokens_total}
 * ({@code key}: the request key, {@code anonymous} for requests keyed by address; {@code outcome}: {@code charged}
 * or {@code refused}), {@code modelgate_token_limit_redis_failures_total}, {@code modelgate_token_limit_fallbacks_total}
 * and the gauge {@code modelgate_token_limit_local_keys}.
 */
public final class TokenLimitProvider implements MiddlewareProvider {

    public static final ErrorCode TOKENS_EXHAUSTED = new ErrorCode(30501, 429, "RESOURCE_EXHAUSTED",
            "token limit reached");
    public static final ErrorCode STORE_UNAVAILABLE = new ErrorCode(30502, 503, "UNAVAILABLE",
            "token limit store unavailable");

    private static final int MAX_TOKENS = 1_000_000_000;

    @Override
    public String type() {
        return "token-limit";
    }

    @Override
    public List<ErrorCode> errorCodes() {
        return List.of(TOKENS_EXHAUSTED, STORE_UNAVAILABLE);
    }

    @Override
    public Middleware create(ConfigNode config, PluginContext context) {
        RequestKey requestKey = RateLimitProvider.requestKey(config, Exchange::clientAddress, "subject");
        List<TokenWindow> windows = new ArrayList<>();
        window(config, "tokens-per-minute", Duration.ofMinutes(1), windows);
        window(config, "tokens-per-day", Duration.ofDays(1), windows);
        if (windows.isEmpty()) {
            config.problem("tokens-per-minute", "give tokens-per-minute, tokens-per-day or both");
        }
        long estimate = config.integer("estimate", 1024, 1, MAX_TOKENS);
        String store = config.string("store", "local");
        int maxKeys = config.integer("max-keys", 100_000, 1, 100_000_000);
        RedisLimiter.Settings redisSettings = RateLimitProvider.redisSettings(config, context, store,
                "modelgate:token-limit:");
        if (windows.isEmpty()) {
            // Never runs: the kernel discards what a create that reported a problem returns.
            return (exchange, chain) -> chain.proceed();
        }
        TokenWindow[] windowArray = windows.toArray(TokenWindow[]::new);
        LocalTokenBudget local = new LocalTokenBudget(windowArray, System::nanoTime, maxKeys);
        context.metrics().gauge("modelgate_token_limit_local_keys", "Keys held by the in-process token limiter.",
                Map.of("limiter", context.name()), local::size);
        // A fail-closed refusal's Retry-After is when the store will next be tried.
        return redisSettings == null ? new TokenLimitMiddleware(requestKey, local, estimate, context.metrics(),
                context.name(), 1)
                : new TokenLimitMiddleware(requestKey, new RedisTokenBudget(redisSettings, windowArray, local,
                        context), estimate, context.metrics(), context.name(),
                        Decision.ceilSeconds(redisSettings.backoff().toNanos()));
    }

    private static void window(ConfigNode config, String key, Duration period, List<TokenWindow> windows) {
        if (config.has(key)) {
            int capacity = config.integer(key, 0, 1, MAX_TOKENS);
            if (capacity > 0) {
                windows.add(new TokenWindow(capacity, period));
            }
        }
    }
}
