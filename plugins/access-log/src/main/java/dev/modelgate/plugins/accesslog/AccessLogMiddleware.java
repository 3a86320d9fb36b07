package dev.modelgate.plugins.accesslog;

import dev.modelgate.spi.BackendCall;
import dev.modelgate.spi.LlmCall;
import dev.modelgate.spi.Exchange;
import dev.modelgate.spi.PhasedMiddleware;
import dev.modelgate.spi.Principal;
import dev.modelgate.spi.RejectionException;
import dev.modelgate.spi.Response;
import dev.modelgate.spi.StreamFailedException;
import java.time.Clock;

/**
 * Records every request that passes, after the rest of the pipeline has answered, and hands the record to the
 * background writer, which {@link #after} never waits for: phased, with nothing to do before. Thread-safe; closed by
 * the kernel when the gateway stops.
 */
final class AccessLogMiddleware implements PhasedMiddleware, AutoCloseable {

    /** A version 00 W3C {@code traceparent}; group 1 is the trace id. */
    private static final java.util.regex.Pattern TRACEPARENT =
            java.util.regex.Pattern.compile("00-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}");

    private final AccessLogWriter writer;
    private final String requestIdHeader;
    private final Clock clock;

    AccessLogMiddleware(AccessLogWriter writer, String requestIdHeader, Clock clock) {
        this.writer = writer;
        this.requestIdHeader = requestIdHeader;
        this.clock = clock;
    }

    @Override
    public Response before(Exchange exchange) {
        return null;
    }

    @Override
    public Response after(Exchange exchange, Response response) {
        if (response.body().length() >= 0) {
            writer.submit(entry(exchange, response, response.status(), response.code(), response.body().length()));
            return response;
        }
        // A stream: its line waits for its last byte, for the whole latency and the bytes it really wrote. One that
        // failed midway (its upstream broke it) is logged with the failure's status and code, not the 200 it began
        // with.
        CountingBody counted = new CountingBody(response.body());
        exchange.onComplete(failure -> writer.submit(failure instanceof StreamFailedException failed
                ? entry(exchange, response, failed.errorCode().httpStatus(), failed.errorCode().code(),
                        counted.written())
                : entry(exchange, response, response.status(), response.code(), counted.written())));
        return new Response(response.status(), response.headers(), counted, response.code());
    }

    private AccessLogEntry entry(Exchange exchange, Response response, int status, int code, long bytesOut) {
        double latencyMillis = (System.nanoTime() - exchange.startNanos()) / 1_000_000.0;
        return new AccessLogEntry(
                clock.millis(),
                requestId(exchange, response),
                exchange.clientAddress(),
                exchange.method(),
                exchange.path(),
                status,
                code,
                Math.round(latencyMillis * 1000) / 1000.0,
                bytesIn(exchange),
                bytesOut,
                exchange.backendName(),
                exchange.model(),
                subject(exchange),
                exchange.attribute(BackendCall.BATCH_SIZE),
                exchange.attribute(LlmCall.ATTRIBUTE),
                traceId(exchange));
    }

    /**
     * The trace id of the request's W3C {@code traceparent} as it went to the backend (the trace-context middleware
     * sets it, before or after this one), or {@code null}.
     */
    private static String traceId(Exchange exchange) {
        String traceparent = exchange.requestHeaders().first("traceparent");
        if (traceparent == null) {
            return null;
        }
        java.util.regex.Matcher matcher = TRACEPARENT.matcher(traceparent.strip());
        return matcher.matches() ? matcher.group(1) : null;
    }

    /** Read after the rest of the pipeline ran, so authentication may come before or after this middleware. */
    private static String subject(Exchange exchange) {
        Principal principal = exchange.attribute(Principal.ATTRIBUTE);
        return principal == null ? null : principal.subject();
    }

    /** The id the request-id middleware set, whether it runs before or after this one. */
    private String requestId(Exchange exchange, Response response) {
        String fromResponse = response.header(requestIdHeader);
        return fromResponse != null ? fromResponse : exchange.requestHeaders().first(requestIdHeader);
    }

    /**
     * The request body's size: its declared length; without one, the size of the body the kernel has already read in
     * full (0 for a request without a body). A compressed body without a declared length is not inflated to be
     * measured: -1.
     */
    private static long bytesIn(Exchange exchange) {
        String contentLength = exchange.requestHeaders().first("Content-Length");
        if (contentLength == null) {
            if (exchange.requestHeaders().contains("Content-Encoding")) {
                return -1;
            }
            try {
                return exchange.body().length;
            } catch (RejectionException e) {
                return -1;
            }
        }
        try {
            return Long.parseLong(contentLength.trim());
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    @Override
    public void close() {
        writer.close();
    }
}
