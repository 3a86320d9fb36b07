package dev.modelgate.spi;

/**
 * The gateway's span of a request in a W3C trace, as the {@code trace-context} middleware makes it and sends it to
 * the backend in {@code traceparent}: a span exporter ({@code opentelemetry}) reports the request under exactly
 * these ids, so the backend's spans hang under the gateway's.
 *
 * @param traceId 32 lower-case hex digits
 * @param spanId the gateway's span, 16 lower-case hex digits: the parent id the backend is sent
 * @param parentSpanId the client's span that the gateway's continues, or {@code null} when the gateway started the
 *     trace
 * @param flags the trace flags sent on, 2 lower-case hex digits ({@code 01}: sampled)
 * @param traceState the {@code tracestate} passed on, or {@code null}
 */
public record TraceSpan(String traceId, String spanId, String parentSpanId, String flags, String traceState) {

    /** Set by the trace-context middleware before the request goes on. */
    public static final Attribute<TraceSpan> ATTRIBUTE = Attribute.named("trace-span");

    private static final int SAMPLED = 0x01;

    public boolean sampled() {
        return (Integer.parseInt(flags, 16) & SAMPLED) != 0;
    }

    /** The same span with the sampled flag set or cleared, the other flags kept. */
    public TraceSpan withSampled(boolean sampled) {
        int bits = Integer.parseInt(flags, 16);
        int changed = sampled ? bits | SAMPLED : bits & ~SAMPLED;
        return new TraceSpan(traceId, spanId, parentSpanId, "%02x".formatted(changed), traceState);
    }

    /** The {@code traceparent} header the backend is sent: this span as the parent. */
    public String traceparent() {
        return "00-" + traceId + "-" + spanId + "-" + flags;
    }
}
