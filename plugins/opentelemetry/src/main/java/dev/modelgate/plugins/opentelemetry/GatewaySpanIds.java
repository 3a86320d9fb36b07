package dev.modelgate.plugins.opentelemetry;

import dev.modelgate.spi.TraceSpan;
import io.opentelemetry.sdk.trace.IdGenerator;
import java.util.function.Supplier;

/**
 * Gives the SDK the ids the {@code trace-context} middleware already chose and sent to the backend, instead of new
 * random ones: the span the SDK starts inside {@link #starting} is the gateway's span the backend names as its
 * parent. The SDK asks for the ids on the thread that starts the span, so a thread-local carries them there.
 */
final class GatewaySpanIds implements IdGenerator {

    private static final IdGenerator RANDOM = IdGenerator.random();

    private final ThreadLocal<TraceSpan> current = new ThreadLocal<>();

    /** Runs {@code start}, whose span takes {@code span}'s trace id (for a new trace) and span id. */
    <T> T starting(TraceSpan span, Supplier<T> start) {
        current.set(span);
        try {
            return start.get();
        } finally {
            current.remove();
        }
    }

    @Override
    public String generateSpanId() {
        TraceSpan span = current.get();
        return span != null ? span.spanId() : RANDOM.generateSpanId();
    }

    @Override
    public String generateTraceId() {
        TraceSpan span = current.get();
        return span != null ? span.traceId() : RANDOM.generateTraceId();
    }
}
