package dev.modelgate.plugins.ratelimit;

import dev.modelgate.spi.Chain;
import dev.modelgate.spi.Exchange;
import dev.modelgate.spi.LlmCall;
import dev.modelgate.spi.Metrics;
import dev.modelgate.spi.Middleware;
import dev.modelgate.spi.RejectionException;
import dev.modelgate.spi.Response;
import java.util.Map;

/**
 * Reserves each LLM call's tokens ({@link TokenRequest}) against its key's windows before it runs, refusing it when
 * they cannot cover them, and once the client has the whole answer charges what the upstream reported it used
 * (prompt and completion tokens, {@link LlmCall}) in place of the reservation. An answer that reported no usage
 * keeps its reservation when it succeeded (a stream cut short, or not asked for its usage, still cost tokens) and
 * gives it back when it failed. Requests without a body (the model list) cost nothing and pass unchecked.
 *
 * <p>Thread-safe: immutable, over a thread-safe budget. The charge is made on a virtual thread of its own, since a
 * completion listener must not block and Redis may take up to its timeout.
 */
final class TokenLimitMiddleware implements Middleware, AutoCloseable {

    private static final String TOKENS = "modelgate_token_limit_tokens_total";
    private static final String TOKENS_HELP = "Tokens charged to LLM calls, and reserved by calls the token limit "
            + "refused, by limiter and request key.";

    private final RequestKey requestKey;
    private final TokenBudget budget;
    private final long estimate;
    private final Metrics metrics;
    private final String limiter;
    /** The {@code Retry-After} of a fail-closed refusal: when the store will next be tried. */
    private final long unavailableRetrySeconds;

    /** @param estimate the tokens a call that sets no {@code max_tokens} reserves */
    TokenLimitMiddleware(RequestKey requestKey, TokenBudget budget, long estimate, Metrics metrics, String limiter,
            long unavailableRetrySeconds) {
        this.requestKey = requestKey;
        this.budget = budget;
        this.estimate = estimate;
        this.metrics = metrics;
        this.limiter = limiter;
        this.unavailableRetrySeconds = unavailableRetrySeconds;
    }

    @Override
    public Response handle(Exchange exchange, Chain chain) {
        byte[] body;
        try {
            body = exchange.body();
        } catch (RejectionException e) {
            // Too large: the backend refuses it with the same code, before any token is spent.
            return chain.proceed();
        }
        if (body.length == 0) {
            return chain.proceed();
        }
        String key = requestKey.of(exchange);
        long reserved = TokenRequest.reservation(body, estimate);
        Decision decision = budget.reserve(key, reserved);
        return switch (decision.verdict()) {
            case ALLOWED -> {
                Response response = chain.proceed();
                exchange.onComplete(failure -> settle(exchange, key, reserved, response.status()));
                yield response;
            }
            case DENIED -> {
                tokens(key, "refused").add(reserved);
                String retryAfter = Long.toString(Math.max(1, Decision.ceilSeconds(decision.retryAfterNanos())));
                yield exchange.error(TokenLimitProvider.TOKENS_EXHAUSTED, "the tokens left cannot cover this "
                        + "call's " + reserved + "; retry after " + retryAfter + "s")
                        .withHeader("Retry-After", retryAfter);
            }
            case UNCHECKED -> chain.proceed();
            case UNAVAILABLE -> exchange.error(TokenLimitProvider.STORE_UNAVAILABLE, null)
                    .withHeader("Retry-After", Long.toString(unavailableRetrySeconds));
        };
    }

    /** Charges the call's real usage instead of its reservation. */
    private void settle(Exchange exchange, String key, long reserved, int status) {
        LlmCall call = exchange.attribute(LlmCall.ATTRIBUTE);
        long used = call != null && call.promptTokens() >= 0
                ? call.promptTokens() + Math.max(0, call.completionTokens())
                : status < 400 ? reserved : 0;
        Thread.startVirtualThread(() -> {
            if (used != reserved) {
                budget.adjust(key, used - reserved);
            }
            tokens(key, "charged").add(used);
        });
    }

    /**
     * The counter of {@code outcome} for {@code key}; anonymous requests (keyed by their address) share one label, so
     * that clients cannot grow the metrics without bound.
     */
    private Metrics.Counter tokens(String key, String outcome) {
        String label = key.startsWith("ip:") ? "anonymous" : key;
        return metrics.counter(TOKENS, TOKENS_HELP, Map.of("limiter", limiter, "key", label, "outcome", outcome));
    }

    @Override
    public void close() throws Exception {
        if (budget instanceof AutoCloseable closeable) {
            closeable.close();
        }
    }
}
