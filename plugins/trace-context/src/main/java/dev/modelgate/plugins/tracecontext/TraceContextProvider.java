package dev.modelgate.plugins.tracecontext;

import dev.modelgate.spi.ConfigNode;
import dev.modelgate.spi.Middleware;
import dev.modelgate.spi.MiddlewareProvider;
import dev.modelgate.spi.PhasedMiddleware;
import dev.modelgate.spi.PluginContext;
import dev.modelgate.spi.TraceSpan;

/**
 * The {@code trace-context} middleware: W3C Trace Context for every request. A client's valid {@code traceparent}
 * is continued (with {@code trust-incoming}, the default), anything else starts a new trace; either way the gateway
 * takes a span of its own and sends the backend {@code traceparent} with the same trace id and that span as the parent,
 * {@code tracestate} passed on as it came. The http backend forwards both by default, a grpc backend when its
 * {@code forward-headers} name them; the access log records the trace id as {@code trace_id}. The span is also
 * set as the exchange's {@link TraceSpan#ATTRIBUTE}, for an exporter to report it under the same ids.
 */
public final class TraceContextProvider implements MiddlewareProvider {

    @Override
    public String type() {
        return "trace-context";
    }

    @Override
    public Middleware create(ConfigNode config, PluginContext context) {
        boolean trustIncoming = config.bool("trust-incoming", true);
        // Phased: it marks the request before the rest of the pipeline and has nothing to do after.
        PhasedMiddleware traceContext = exchange -> {
            TraceParent incoming = trustIncoming
                    ? TraceParent.parse(exchange.requestHeaders().first("traceparent")) : null;
            TraceParent outgoing = incoming != null ? incoming.child() : TraceParent.start();
            if (incoming == null) {
                // A tracestate belongs to the trace it came with.
                exchange.requestHeaders().remove("tracestate");
            }
            TraceSpan span = new TraceSpan(outgoing.traceId(), outgoing.parentId(),
                    incoming == null ? null : incoming.parentId(), outgoing.flags(),
                    exchange.requestHeaders().first("tracestate"));
            exchange.requestHeaders().set("traceparent", span.traceparent());
            exchange.setAttribute(TraceSpan.ATTRIBUTE, span);
            return null;
        };
        return traceContext;
    }
}
