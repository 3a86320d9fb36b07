package dev.modelgate.plugins.ratelimit;

import dev.modelgate.spi.Chain;
import dev.modelgate.spi.Exchange;
import dev.modelgate.spi.Headers;
import dev.modelgate.spi.Metrics;
import dev.modelgate.spi.Middleware;
import dev.modelgate.spi.Response;

/**
 * Asks the limiter about each request's key: admitted requests go on and their response tells the client what is
 * left ({@code RateLimit-Limit}, {@code RateLimit-Remaining}, {@code RateLimit-Reset}, in seconds); refused ones are
 * answered 429 with the same headers and {@code Retry-After}. Thread-safe: immutable, over a thread-safe limiter.
 * Closing it closes the limiter's Redis connections.
 */
final class RateLimitMiddleware implements Middleware, AutoCloseable {

    private final RequestKey requestKey;
    private final Limiter limiter;
    private final Metrics.Counter allowed;
    private final Metrics.Counter denied;
    /** The {@code Retry-After} of a fail-closed refusal: when the store will next be tried. */
    private final long unavailableRetrySeconds;

    RateLimitMiddleware(RequestKey requestKey, Limiter limiter, Metrics.Counter allowed, Metrics.Counter denied,
            long unavailableRetrySeconds) {
        this.requestKey = requestKey;
        this.limiter = limiter;
        this.allowed = allowed;
        this.denied = denied;
        this.unavailableRetrySeconds = unavailableRetrySeconds;
    }

    @Override
    public Response handle(Exchange exchange, Chain chain) {
        Decision decision = limiter.decide(requestKey.of(exchange));
        return switch (decision.verdict()) {
            case ALLOWED -> {
                allowed.increment();
                yield withRateLimitHeaders(chain.proceed(), decision, null);
            }
            case DENIED -> {
                denied.increment();
                String retryAfter = Long.toString(Math.max(1, Decision.ceilSeconds(decision.retryAfterNanos())));
                yield withRateLimitHeaders(exchange.error(RateLimitProvider.RATE_LIMITED, "retry after "
                        + retryAfter + "s"), decision, retryAfter);
            }
            case UNCHECKED -> chain.proceed();
            case UNAVAILABLE -> exchange.error(RateLimitProvider.STORE_UNAVAILABLE, null)
                    .withHeader("Retry-After", Long.toString(unavailableRetrySeconds));
        };
    }

    private static Response withRateLimitHeaders(Response response, Decision decision, String retryAfter) {
        Headers headers = response.headers();
        headers.set("RateLimit-Limit", Integer.toString(decision.limit()));
        headers.set("RateLimit-Remaining", Long.toString(decision.remaining()));
        headers.set("RateLimit-Reset", Long.toString(Decision.ceilSeconds(decision.resetNanos())));
        if (retryAfter != null) {
            headers.set("Retry-After", retryAfter);
        }
        return new Response(response.status(), headers, response.body(), response.code());
    }

    @Override
    public void close() throws Exception {
        if (limiter instanceof AutoCloseable closeable) {
            closeable.close();
        }
    }
}
