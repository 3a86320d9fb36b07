package dev.modelgate.plugins.ratelimit;

import dev.modelgate.spi.Attribute;
import dev.modelgate.spi.Exchange;
import dev.modelgate.spi.Headers;
import dev.modelgate.spi.Metrics;
import dev.modelgate.spi.PhasedMiddleware;
import dev.modelgate.spi.Response;

/**
 * Asks the limiter about each request's key: admitted requests go on and their response tells the client what is
 * left ({@code RateLimit-Limit}, {@code RateLimit-Remaining}, {@code RateLimit-Reset}, in seconds); refused ones are
 * answered 429 with the same headers and {@code Retry-After}. Thread-safe: immutable, over a thread-safe limiter.
 * Closing it closes the limiter's Redis connections.
 *
 * <p>Phased: the decision is made before the rest of the pipeline and reported on its answer after. The local limiter
 * never blocks; one that asks Redis does, so the provider then wraps it in {@link PhasedMiddleware#blocking}, which
 * the kernel runs on the request's virtual thread.
 */
final class RateLimitMiddleware implements PhasedMiddleware, AutoCloseable {

    /** The decision that admitted the request, which {@link #after} reports; this instance's own key. */
    private final Attribute<Decision> admitted = Attribute.named("rate-limit-admitted");

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
    public Response before(Exchange exchange) {
        Decision decision = limiter.decide(requestKey.of(exchange));
        // Set on every request, so that a middleware that runs the rest again never reports an earlier decision.
        exchange.setAttribute(admitted, decision.verdict() == Decision.Verdict.ALLOWED ? decision : null);
        return switch (decision.verdict()) {
            case ALLOWED -> {
                allowed.increment();
                yield null;
            }
            case DENIED -> {
                denied.increment();
                String retryAfter = Long.toString(Math.max(1, Decision.ceilSeconds(decision.retryAfterNanos())));
                yield withRateLimitHeaders(exchange.error(RateLimitProvider.RATE_LIMITED, "retry after "
                        + retryAfter + "s"), decision, retryAfter);
            }
            case UNCHECKED -> null;
            case UNAVAILABLE -> exchange.error(RateLimitProvider.STORE_UNAVAILABLE, null)
                    .withHeader("Retry-After", Long.toString(unavailableRetrySeconds));
        };
    }

    @Override
    public Response after(Exchange exchange, Response response) {
        Decision decision = exchange.attribute(admitted);
        return decision == null ? response : withRateLimitHeaders(response, decision, null);
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
