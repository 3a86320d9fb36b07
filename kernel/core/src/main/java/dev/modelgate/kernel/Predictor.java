package dev.modelgate.kernel;

import dev.modelgate.spi.Backend;
import dev.modelgate.spi.BackendCall;
import dev.modelgate.spi.BackendException;
import dev.modelgate.spi.BackendResult;
import dev.modelgate.spi.CoreErrors;
import dev.modelgate.spi.ProxyBackend;
import dev.modelgate.spi.PushBody;
import dev.modelgate.spi.RejectionException;
import dev.modelgate.spi.Response;
import dev.modelgate.spi.inference.InferenceBackend;
import dev.modelgate.spi.inference.InferenceCodec;
import dev.modelgate.spi.inference.InferenceRequest;
import dev.modelgate.spi.inference.InferenceResponse;
import dev.modelgate.spi.inference.ModelMetadata;
import dev.modelgate.spi.inference.Payload;
import dev.modelgate.spi.inference.Tensor;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;

/**
 * The inference terminal of every front. Two paths:
 * <ul>
 *   <li>proxy: the backend forwards bodies in the front's dialect, the client sent JSON (or Triton's binary form)
 *       and accepts JSON, and no filter of the backend works on tensors: the bytes go through unparsed, and the answer comes back as the backend gave it (in the
 *       envelope on the gateway's API, after a streaming check);</li>
 *   <li>inference: the front's codec for the request's {@code Content-Type} decodes it into tensors, the backend
 *       infers, and the codec the {@code Accept} header chooses encodes the answer.</li>
 * </ul>
 */
final class Predictor {

    private static final System.Logger LOG = System.getLogger(Predictor.class.getName());
    /** Bodies a model server of the dialect takes as they are: what the proxy path may forward. */
    private static final Set<String> NATIVE_MEDIA_TYPES = Set.of("", "application/json", "application/octet-stream");
    private static final String JSON = "application/json";

    private Predictor() {
    }

    /**
     * Serves the predict call on {@code exchange} with {@code backend}, through its {@code filters}; never throws a
     * checked exception.
     */
    static Response predict(String backendName, Backend backend, List<FilterStep> filters, RealExchange exchange,
            Codecs codecs, MetricsRegistry metrics) {
        Front front = exchange.front();
        Response tooLate = tooLate(exchange);
        if (tooLate != null) {
            return tooLate;
        }
        String contentType = front.readAs(exchange.requestHeaders().first("Content-Type"));
        String mediaType = InferenceCodec.mediaTypeOf(contentType);
        String accept = exchange.requestHeaders().first("Accept");
        if (forwards(backend, filters, exchange, mediaType, accept)) {
            front.checkForwarded(exchange, mediaType);
            BackendResult result = FilterChain.run(filters, new BackendCall(exchange, backendName, null),
                    call -> timed(backendName, backend, call, metrics));
            return respond(result, exchange, null);
        }
        if (!(backend instanceof InferenceBackend inference)) {
            return refuseForProxy((ProxyBackend) backend, backendName, exchange, mediaType);
        }
        String dialect = front.bodyDialect();
        InferenceCodec reader = codecs.reader(dialect, mediaType.isEmpty() ? JSON : mediaType).orElse(null);
        if (reader == null) {
            return exchange.error(CoreErrors.UNSUPPORTED_MEDIA_TYPE, "'" + contentType + "'; this endpoint reads "
                    + (codecs.writable(dialect).isEmpty() ? "nothing: no " + dialect + " codec is loaded"
                    : String.join(", ", codecs.writable(dialect))));
        }
        InferenceCodec writer = codecs.negotiate(dialect, accept, reader).orElse(null);
        if (writer == null) {
            return exchange.error(CoreErrors.NOT_ACCEPTABLE, "'" + accept + "'; this endpoint writes "
                    + String.join(", ", codecs.writable(dialect)));
        }
        ModelMetadata metadata = metadata(inference, exchange);
        String versionProblem = ModelApi.versionProblem(exchange.model(), metadata, exchange.modelVersion());
        if (versionProblem != null) {
            return exchange.error(CoreErrors.UNKNOWN_MODEL_VERSION, versionProblem);
        }
        InferenceRequest request = reader.decodeRequest(new Payload(contentType == null ? JSON : contentType,
                exchange.requestHeaders(), exchange.body()), exchange, metadata);
        if (!exchange.acceptsNonFinite()) {
            String nonFinite = nonFiniteInput(request);
            if (nonFinite != null) {
                return exchange.error(CoreErrors.NON_FINITE_INPUT, nonFinite);
            }
        }
        BackendResult result = FilterChain.run(filters, new BackendCall(exchange, backendName, request),
                call -> timed(backendName, backend, call, metrics));
        return respond(result, exchange, writer);
    }

    /**
     * Whether the predict on {@code exchange} takes the proxy path: the backend forwards bodies in the front's
     * dialect, the client sent one the dialect's model servers take as it is and accepts what they answer, and no
     * filter needs the tensors of a backend that could give them.
     */
    static boolean forwards(Backend backend, List<FilterStep> filters, RealExchange exchange, String mediaType,
            String accept) {
        Front front = exchange.front();
        return backend instanceof ProxyBackend proxy && proxy.dialect().equals(front.bodyDialect())
                && NATIVE_MEDIA_TYPES.contains(mediaType) && front.forwards(accept)
                && !(backend instanceof InferenceBackend && needTensors(filters));
    }

    /** The media type of the request's body, as its front reads it. */
    static String mediaType(RealExchange exchange) {
        return InferenceCodec.mediaTypeOf(exchange.front().readAs(exchange.requestHeaders().first("Content-Type")));
    }

    /** The answer for a request whose deadline passed before the backend was called, else {@code null}. */
    private static Response tooLate(RealExchange exchange) {
        return System.nanoTime() - exchange.deadlineNanos() >= 0
                ? exchange.error(CoreErrors.DEADLINE_EXCEEDED, "before the backend was called") : null;
    }

    /**
     * The proxy path of {@link #predict} without blocking, for a request {@link #forwards} and a backend that
     * forwards without blocking behind phased filters. The stage completes with the client's answer and never fails.
     *
     * @param mediaType the request body's, as {@link #mediaType} read it
     * @param blockingWork where an answer that streams is turned into the client's: a front may read such a body
     *     whole (the gateway's envelope does), and reading it blocks until the IO thread has fed it. Not for a
     *     {@link PushBody} the front passes as it is, which the IO thread writes as its events come
     */
    static CompletionStage<Response> forwardWithoutBlocking(String backendName, ProxyBackend backend,
            List<FilterStep> filters, RealExchange exchange, String mediaType, MetricsRegistry metrics,
            Executor blockingWork) {
        try {
            Response tooLate = tooLate(exchange);
            if (tooLate != null) {
                return CompletableFuture.completedFuture(tooLate);
            }
            exchange.front().checkForwarded(exchange, mediaType);
            BackendCall call = new BackendCall(exchange, backendName, null);
            // Completed by the thread that responds, so that what follows (the route's afters, the write) runs
            // there too: chained with thenCompose, a quick virtual thread could finish before the link was made,
            // leaving the rest to the IO thread, which then had to hand a streamed write to a second one.
            CompletableFuture<Response> answer = new CompletableFuture<>();
            Phases.around(filters.size(), i -> FilterChain.phases(filters.get(i), call),
                    () -> timedWithoutBlocking(backendName, backend, call, metrics))
                    .whenComplete((result, failure) -> {
                        if (failure != null) {
                            answer.completeExceptionally(failure);
                        } else if (streams(result) && !pushedAsIs(result, exchange)) {
                            try {
                                blockingWork.execute(() -> answer.complete(respondSafely(result, exchange)));
                            } catch (RuntimeException refused) {
                                answer.complete(RealChain.terminalFailed(exchange, refused));
                            }
                        } else {
                            answer.complete(respondSafely(result, exchange));
                        }
                    });
            return answer;
        } catch (Throwable e) {
            return CompletableFuture.completedFuture(RealChain.terminalFailed(exchange, e));
        }
    }

    /** Whether the backend's answer is a body still arriving. */
    private static boolean streams(BackendResult result) {
        return result.forwardedResponse() != null && result.forwardedResponse().body().length() < 0;
    }

    /**
     * Whether the backend's answer is a body pushed as it arrives that the front passes through unread: the IO thread
     * that has its head writes it, with no thread between.
     */
    private static boolean pushedAsIs(BackendResult result, RealExchange exchange) {
        Response forwarded = result.forwardedResponse();
        return forwarded.body() instanceof PushBody && exchange.front().passesAsIs(forwarded.status());
    }

    /** {@link #respond} to a forwarded answer, what it throws as the terminal's failure. */
    private static Response respondSafely(BackendResult result, RealExchange exchange) {
        try {
            return respond(result, exchange, null);
        } catch (Throwable e) {
            return RealChain.terminalFailed(exchange, e);
        }
    }

    /** The backend's non-blocking forward, timed as {@link #timed} times a call; its stage never fails. */
    private static CompletionStage<BackendResult> timedWithoutBlocking(String backendName, ProxyBackend backend,
            BackendCall call, MetricsRegistry metrics) {
        long start = System.nanoTime();
        CompletionStage<Response> answer;
        try {
            answer = backend.forwardAsync(call.exchange());
        } catch (RuntimeException | StackOverflowError e) {
            answer = CompletableFuture.failedFuture(e);
        }
        return answer.handle((response, failure) -> {
            metrics.recordBackendCall(backendName, System.nanoTime() - start);
            return failure == null ? BackendResult.forwarded(response)
                    : failed(backendName, call, failure instanceof CompletionException wrapped
                            && wrapped.getCause() != null ? wrapped.getCause() : failure);
        });
    }

    /**
     * Where a floating-point input holds NaN or an infinity, or {@code null}: such a value, whether written as
     * {@code 1e999}, {@code NaN} or {@code Infinity} or carried as raw IEEE bits, gives most models a successful answer
     * of garbage. Checked after decoding, so every codec and media type is treated alike.
     */
    private static String nonFiniteInput(InferenceRequest request) {
        for (Tensor input : request.inputs()) {
            int index = input.firstNonFinite();
            if (index >= 0) {
                return "tensor '" + input.name() + "' element " + index + " is " + input.doubleAt(index)
                        + "; this model takes finite numbers only";
            }
        }
        return null;
    }

    private static boolean needTensors(List<FilterStep> filters) {
        for (FilterStep filter : filters) {
            if (filter.needsTensors()) {
                return true;
            }
        }
        return false;
    }

    /** The model's metadata for the decoder, or {@code null} when the backend cannot give it now. */
    private static ModelMetadata metadata(InferenceBackend backend, RealExchange exchange) {
        try {
            return backend.metadata(exchange.model(), exchange);
        } catch (BackendException | RejectionException e) {
            // Decoders do without (a model server may have no metadata URL, or refuse it): the request must then
            // name and type its inputs itself.
            LOG.log(System.Logger.Level.DEBUG, () -> "no metadata of '" + exchange.model() + "': " + e);
            return null;
        }
    }

    /** {@link #invoke}, its time recorded as the backend's latency (to its answer's headers, for a stream). */
    private static BackendResult timed(String backendName, Backend backend, BackendCall call,
            MetricsRegistry metrics) {
        long start = System.nanoTime();
        try {
            return invoke(backendName, backend, call);
        } finally {
            metrics.recordBackendCall(backendName, System.nanoTime() - start);
        }
    }

    /** The backend itself, at the end of its filters: its answer, or its failure as a value. */
    private static BackendResult invoke(String backendName, Backend backend, BackendCall call) {
        try {
            if (call.isProxy()) {
                return BackendResult.forwarded(((ProxyBackend) backend).forward(call.exchange()));
            }
            return BackendResult.inferred(((InferenceBackend) backend).infer(call.request(), call.exchange()));
        } catch (BackendException | RuntimeException | StackOverflowError e) {
            return failed(backendName, call, e);
        }
    }

    /** A backend's failure as a value: the chain never throws, and the filters must not take the blame. */
    private static BackendResult failed(String backendName, BackendCall call, Throwable e) {
        if (e instanceof BackendException backendFailure) {
            LOG.log(System.Logger.Level.DEBUG, () -> "backend '" + backendName + "' failed: " + e, e);
            return BackendResult.failed(ModelApi.codeOf(backendFailure.kind()), backendFailure.getMessage());
        }
        if (e instanceof RejectionException rejection) {
            return BackendResult.failed(rejection.errorCode(), rejection.getMessage());
        }
        RealChain.rethrowFatal(e);
        LOG.log(System.Logger.Level.ERROR, "backend '" + backendName + "' failed on " + call.exchange().method()
                + " " + call.exchange().path(), e);
        return BackendResult.failed(CoreErrors.INTERNAL, "backend '" + backendName + "' failed");
    }

    /** The client's answer to {@code result}, in the front's shape; {@code writer} encodes a decoded answer. */
    private static Response respond(BackendResult result, RealExchange exchange, InferenceCodec writer) {
        if (result.error() != null) {
            return exchange.error(result.error(), result.detail());
        }
        if (result.answeredResponse() != null) {
            return result.answeredResponse();
        }
        if (result.forwardedResponse() != null) {
            return exchange.front().passThrough(result.forwardedResponse(), exchange);
        }
        InferenceResponse answer = result.inferenceResponse();
        Payload encoded = writer.encodeResponse(answer, exchange);
        if (answer.hasItemErrors()) {
            return exchange.front().answerItems(encoded, answer.itemErrors(), items(answer));
        }
        return exchange.front().answer(encoded);
    }

    /** How many items an answer has: its outputs' first dimension (which every failed item's index is below). */
    private static int items(InferenceResponse answer) {
        int items = answer.itemErrors().getLast().index() + 1;
        for (Tensor output : answer.outputs()) {
            if (output.rank() > 0) {
                items = (int) Math.max(items, output.dimension(0));
            }
        }
        return items;
    }

    /** Why a backend that only forwards cannot serve this request. */
    private static Response refuseForProxy(ProxyBackend backend, String backendName, RealExchange exchange,
            String mediaType) {
        if (!backend.dialect().equals(exchange.front().bodyDialect())) {
            return exchange.error(CoreErrors.OPERATION_UNSUPPORTED, "backend '" + backendName + "' forwards "
                    + backend.dialect() + " bodies only; give it a protocol to reach it from " + exchange.dialect());
        }
        if (!NATIVE_MEDIA_TYPES.contains(mediaType)) {
            return exchange.error(CoreErrors.UNSUPPORTED_MEDIA_TYPE, "expected application/json, but was "
                    + exchange.requestHeaders().first("Content-Type"));
        }
        return exchange.error(CoreErrors.NOT_ACCEPTABLE, "backend '" + backendName + "' answers application/json");
    }

}
