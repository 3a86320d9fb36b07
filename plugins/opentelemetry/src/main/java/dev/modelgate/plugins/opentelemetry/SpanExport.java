package dev.modelgate.plugins.opentelemetry;

import dev.modelgate.spi.Attribute;
import dev.modelgate.spi.BackendCall;
import dev.modelgate.spi.Exchange;
import dev.modelgate.spi.PhasedMiddleware;
import dev.modelgate.spi.Response;
import dev.modelgate.spi.TraceSpan;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One span per request, under the ids the {@code trace-context} middleware sent to the backend, handed to the SDK's
 * batch processor when the answer is complete (a stream's at its last byte). Never blocks a request on the collector:
 * the processor exports in the background and drops what its queue cannot hold. Phased: the span starts in
 * {@link #before} and is described and ended (or left to the stream's end) in {@link #after}.
 */
final class SpanExport implements PhasedMiddleware, AutoCloseable {

    static final AttributeKey<String> ROUTE = AttributeKey.stringKey("modelgate.route");
    static final AttributeKey<String> MODEL = AttributeKey.stringKey("modelgate.model");
    static final AttributeKey<String> BACKEND = AttributeKey.stringKey("modelgate.backend");
    static final AttributeKey<Long> CODE = AttributeKey.longKey("modelgate.code");
    static final AttributeKey<Long> BATCH_SIZE = AttributeKey.longKey("modelgate.batch_size");
    static final AttributeKey<String> PROTOCOL = AttributeKey.stringKey("modelgate.protocol");
    static final AttributeKey<String> FRONT = AttributeKey.stringKey("modelgate.front");
    static final AttributeKey<Long> HTTP_STATUS = AttributeKey.longKey("http.response.status_code");
    static final AttributeKey<String> HTTP_METHOD = AttributeKey.stringKey("http.request.method");
    static final AttributeKey<String> URL_PATH = AttributeKey.stringKey("url.path");
    static final AttributeKey<String> RPC_SYSTEM = AttributeKey.stringKey("rpc.system");

    /** The gRPC front's name as exchanges carry it in {@link Exchange#dialect()}. */
    private static final String GRPC = "grpc";

    private static final TextMapGetter<Map<String, String>> HEADERS = new TextMapGetter<>() {
        @Override
        public Iterable<String> keys(Map<String, String> carrier) {
            return carrier.keySet();
        }

        @Override
        public String get(Map<String, String> carrier, String key) {
            return carrier == null ? null : carrier.get(key);
        }
    };

    private final SdkTracerProvider tracerProvider;
    private final Tracer tracer;
    private final GatewaySpanIds ids;
    private final Clock clock;
    private final Duration closeTimeout;
    private final System.Logger logger;
    private final AtomicBoolean warnedNoTraceContext = new AtomicBoolean();
    /** The span {@link #before} started for the request, which {@link #after} ends; this instance's own key. */
    private final Attribute<Span> started = Attribute.named("opentelemetry-span");

    SpanExport(SdkTracerProvider tracerProvider, GatewaySpanIds ids, Clock clock, Duration closeTimeout,
            System.Logger logger) {
        this.tracerProvider = tracerProvider;
        this.tracer = tracerProvider.get("dev.modelgate");
        this.ids = ids;
        this.clock = clock;
        this.closeTimeout = closeTimeout;
        this.logger = logger;
    }

    @Override
    public Response before(Exchange exchange) {
        TraceSpan trace = exchange.attribute(TraceSpan.ATTRIBUTE);
        if (trace == null) {
            if (warnedNoTraceContext.compareAndSet(false, true)) {
                logger.log(System.Logger.Level.WARNING, "opentelemetry exports no spans: list the trace-context "
                        + "middleware before it, so that the exported span is the parent the backend is sent");
            }
            exchange.setAttribute(started, null);
            return null;
        }
        Span span = ids.starting(trace, () -> tracer.spanBuilder(name(exchange))
                .setParent(parent(trace))
                .setSpanKind(SpanKind.SERVER)
                .setStartTimestamp(epochNanosAt(exchange.startNanos()), TimeUnit.NANOSECONDS)
                .startSpan());
        boolean sampled = span.getSpanContext().isSampled();
        if (sampled != trace.sampled()) {
            // A trace the gateway started: the sampler decided, and the backend is told the decision.
            TraceSpan decided = trace.withSampled(sampled);
            exchange.setAttribute(TraceSpan.ATTRIBUTE, decided);
            exchange.requestHeaders().set("traceparent", decided.traceparent());
        }
        exchange.setAttribute(started, span);
        return null;
    }

    @Override
    public Response after(Exchange exchange, Response response) {
        Span span = exchange.attribute(started);
        if (span == null || !span.isRecording()) {
            return response;
        }
        describe(span, exchange, response);
        if (response.body().length() >= 0) {
            span.end(epochNanosAt(System.nanoTime()), TimeUnit.NANOSECONDS);
        } else {
            exchange.onComplete(failure -> {
                if (failure != null) {
                    span.setStatus(StatusCode.ERROR, "the answer's stream broke off: " + failure);
                }
                span.end(epochNanosAt(System.nanoTime()), TimeUnit.NANOSECONDS);
            });
        }
        return response;
    }

    /** The client's span as a remote parent (with its tracestate), or no parent for a trace the gateway started. */
    private static Context parent(TraceSpan trace) {
        if (trace.parentSpanId() == null) {
            return Context.root();
        }
        Map<String, String> headers = new HashMap<>();
        headers.put("traceparent", "00-" + trace.traceId() + "-" + trace.parentSpanId() + "-" + trace.flags());
        if (trace.traceState() != null) {
            headers.put("tracestate", trace.traceState());
        }
        return W3CTraceContextPropagator.getInstance().extract(Context.root(), headers, HEADERS);
    }

    /** gRPC's {@code package.Service/Method}, else the HTTP method and path. */
    private static String name(Exchange exchange) {
        if (GRPC.equals(exchange.dialect())) {
            return exchange.path().startsWith("/") ? exchange.path().substring(1) : exchange.path();
        }
        return exchange.method() + " " + exchange.path();
    }

    private static void describe(Span span, Exchange exchange, Response response) {
        boolean grpc = GRPC.equals(exchange.dialect());
        span.setAttribute(PROTOCOL, grpc ? GRPC : "http");
        span.setAttribute(FRONT, exchange.dialect());
        if (grpc) {
            span.setAttribute(RPC_SYSTEM, GRPC);
        } else {
            span.setAttribute(HTTP_METHOD, exchange.method());
            span.setAttribute(URL_PATH, exchange.path());
        }
        span.setAttribute(HTTP_STATUS, response.status());
        span.setAttribute(CODE, response.code());
        if (exchange.model() != null) {
            span.setAttribute(MODEL, exchange.model());
        }
        if (exchange.backendName() != null) {
            // A routed request: its route as the metrics label it.
            span.setAttribute(ROUTE, exchange.model() + ":" + exchange.apiVersion());
            span.setAttribute(BACKEND, exchange.backendName());
        }
        Integer batchSize = exchange.attribute(BackendCall.BATCH_SIZE);
        if (batchSize != null) {
            span.setAttribute(BATCH_SIZE, batchSize.longValue());
        }
        if (response.status() >= 500) {
            span.setStatus(StatusCode.ERROR, "code " + response.code());
        }
    }

    /** The wall-clock time, in nanoseconds since the epoch, of the {@link System#nanoTime()} reading {@code nanos}. */
    private long epochNanosAt(long nanos) {
        Instant now = clock.instant();
        long nowNanos = Math.addExact(Math.multiplyExact(now.getEpochSecond(), 1_000_000_000L), now.getNano());
        return nowNanos - (System.nanoTime() - nanos);
    }

    /** Exports what is still queued, waiting for the collector at most the export timeout. */
    @Override
    public void close() {
        tracerProvider.shutdown().join(closeTimeout.toMillis(), TimeUnit.MILLISECONDS);
    }
}
