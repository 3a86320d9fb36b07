package dev.modelgate.plugins.openai;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.modelgate.plugins.pool.AsyncProxyBackend;
import dev.modelgate.plugins.pool.BuiltInBalancers;
import dev.modelgate.plugins.pool.Instance;
import dev.modelgate.plugins.pool.Watchdogs;
import dev.modelgate.spi.BackendException;
import dev.modelgate.spi.Body;
import dev.modelgate.spi.Exchange;
import dev.modelgate.spi.Headers;
import dev.modelgate.spi.Json;
import dev.modelgate.spi.LlmCall;
import dev.modelgate.spi.Metrics;
import dev.modelgate.spi.RejectionException;
import dev.modelgate.spi.Response;
import dev.modelgate.spi.upstream.StreamedBody;
import dev.modelgate.spi.upstream.UpstreamAnswer;
import dev.modelgate.spi.upstream.UpstreamException;
import dev.modelgate.spi.upstream.UpstreamPool;
import dev.modelgate.spi.upstream.UpstreamRequest;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Forwards the OpenAI front's calls to OpenAI-compatible upstreams, chosen by the body's {@code model} after
 * {@code aliases}: the upstreams that serve the model, in their configured order (the one drawn by weight among the
 * weighted ones first), form its fallback chain. The next one is tried when one cannot be reached or answers 429 or
 * 5xx; all of that happens before the client has any byte of the answer, so a stream that has begun is never retried
 * elsewhere. A streamed answer is relayed event by event ({@link EventStreamBody}); any other answer must be JSON,
 * read whole within {@code max-response-size}.
 *
 * <p>Upstreams are called through the kernel's upstream pools ({@link dev.modelgate.spi.PluginContext#upstreamHttp()}),
 * one per upstream, on the gateway's IO threads: {@link #forwardAsync} never blocks, so a route whose middlewares are
 * all phased is served on the IO thread that read the request, and a stream's events are read by that thread's
 * selector and relayed to the client by it too, as they come ({@link EventStreamBody}). {@link #forward} is the same
 * call, waited for.
 *
 * <p>A call waits at most {@code request-timeout} (never past the request's deadline) for its answer to begin, and
 * for an answer that is not streamed, to end; a stream is then bounded by its stall guard alone. A client that goes
 * away while a stream is relayed cancels its upstream call: the failed write closes the upstream's stream, which
 * drops its connection rather than drain it.
 *
 * <p>Thread-safe: the pools and the balancer's locked weights, no other state across calls.
 */
final class OpenAiBackend implements AsyncProxyBackend {

    /** Seconds, from a fast local model's token to a slow first token of a large one. */
    private static final double[] TOKEN_TIME_BUCKETS = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
        5, 10, 30};

    private static final System.Logger LOG = System.getLogger(OpenAiBackend.class.getName());
    private static final String MODELS = "models";
    /** Upstream headers a client may see: the body's type and the upstream's rate-limit advice. */
    private static final List<String> PASSED_HEADERS = List.of("Content-Type", "Retry-After");
    private static final String RATE_LIMIT_HEADERS = "x-ratelimit-";
    /**
     * The pool's time for a stream: a stream has no limit of its own (its stall guard ends one that stops). Not
     * {@link Long#MAX_VALUE}, which the IO threads' timer would overflow.
     */
    private static final long UNBOUNDED_NANOS = TimeUnit.DAYS.toNanos(365);

    private final List<Upstream> upstreams;
    /** By upstream index: its connections. */
    private final UpstreamPool[] pools;
    private final Map<String, String> aliases;
    private final Duration requestTimeout;
    private final long maxResponseBytes;
    private final Metrics metrics;
    private final boolean askForUsage;
    private final Duration streamIdleTimeout;
    private final BuiltInBalancers.SmoothWeighted balancer;

    /**
     * @param pools by upstream index, the connections each upstream is called over; closed with the backend
     * @param askForUsage whether streams whose client set no {@code stream_options} are asked for their usage
     * @param streamIdleTimeout the longest a stream may wait for its upstream's next byte
     */
    OpenAiBackend(List<Upstream> upstreams, UpstreamPool[] pools, Map<String, String> aliases,
            Duration requestTimeout, long maxResponseBytes, Metrics metrics, boolean askForUsage,
            Duration streamIdleTimeout) {
        this.streamIdleTimeout = streamIdleTimeout;
        this.balancer = new BuiltInBalancers.SmoothWeighted(upstreams.size());
        this.metrics = metrics;
        this.askForUsage = askForUsage;
        this.upstreams = List.copyOf(upstreams);
        this.pools = pools.clone();
        this.aliases = Map.copyOf(aliases);
        this.requestTimeout = requestTimeout;
        this.maxResponseBytes = maxResponseBytes;
    }

    @Override
    public String dialect() {
        return "openai";
    }

    /** Closes the pools: calls in flight end as they would. */
    @Override
    public void close() {
        for (UpstreamPool pool : pools) {
            pool.close();
        }
    }

    @Override
    public CompletionStage<Response> forwardAsync(Exchange exchange) {
        try {
            String verb = exchange.verb();
            if (verb.equals(MODELS)) {
                return call(upstreams, 0, exchange, new Outgoing("GET", verb, null, null, false, false), null)
                        .thenApply(this::withAliases);
            }
            if (verb.startsWith(MODELS + "/")) {
                String model = resolve(verb.substring(MODELS.length() + 1));
                return call(chainOf(model, exchange), 0, exchange,
                        new Outgoing("GET", MODELS + "/" + model, null, null, false, false), null);
            }
            OpenAiRequest request = OpenAiRequest.read(exchange.body());
            String model = resolve(request.model());
            boolean addUsage = askForUsage && request.usageMayBeAdded();
            return call(chainOf(model, exchange), 0, exchange, new Outgoing("POST", verb,
                    request.forwarded(exchange.body(), model, addUsage), model, request.stream(), addUsage), null);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    /**
     * One call to make of an upstream.
     *
     * @param path the path under the base URL, such as {@code chat/completions}
     * @param body the body, or {@code null} for none
     * @param model the model whose tokens the answer's usage counts, or {@code null} for a call without usage
     * @param stream whether the client asked for a stream, whose answer is relayed as it comes
     * @param usageAdded whether the gateway asked for a stream's usage, which the client then does not get
     */
    private record Outgoing(String method, String path, byte[] body, String model, boolean stream,
            boolean usageAdded) {
    }

    private String resolve(String model) {
        return aliases.getOrDefault(model, model);
    }

    /**
     * The upstreams that serve {@code model}, in the order they are tried: the configured order, except that the one
     * drawn by weight among the weighted ones goes first.
     */
    private List<Upstream> chainOf(String model, Exchange exchange) {
        List<Upstream> serving = upstreams.stream().filter(upstream -> upstream.serves(model)).toList();
        if (serving.isEmpty()) {
            throw new RejectionException(OpenAiErrors.UNKNOWN_MODEL, "'" + model + "'");
        }
        List<Instance> weighted = serving.stream().filter(Upstream::weighted).map(Upstream::instance).toList();
        if (weighted.isEmpty()) {
            return serving;
        }
        Upstream first = upstreams.get(balancer.pick(weighted, exchange).index());
        List<Upstream> chain = new ArrayList<>(serving.size());
        chain.add(first);
        serving.stream().filter(upstream -> upstream != first).forEach(chain::add);
        return chain;
    }

    /**
     * The answer of the first upstream of {@code chain}, from {@code index} on, that gives one: an upstream that
     * cannot be reached or answers 429 or 5xx passes the call on to the next, and the last one's answer stands.
     *
     * @param failure why the upstream before failed, or {@code null}
     */
    private CompletableFuture<Response> call(List<Upstream> chain, int index, Exchange exchange, Outgoing outgoing,
            UpstreamException failure) {
        if (index == chain.size()) {
            return CompletableFuture.failedFuture(new BackendException(failure != null
                    && failure.kind() == UpstreamException.Kind.TIMED_OUT ? BackendException.Kind.TIMEOUT
                    : BackendException.Kind.UNAVAILABLE, "no upstream could be reached: " + chain, failure));
        }
        Upstream upstream = chain.get(index);
        CompletableFuture<UpstreamAnswer> sent;
        try {
            sent = send(upstream, exchange, outgoing);
        } catch (BackendException e) {
            return CompletableFuture.failedFuture(e);
        }
        return sent.handle((answer, thrown) -> {
            Throwable cause = thrown instanceof CompletionException && thrown.getCause() != null
                    ? thrown.getCause() : thrown;
            if (cause instanceof CancellationException) {
                // The watchdog of send: a stream's answer did not begin in time.
                cause = new UpstreamException(UpstreamException.Kind.TIMED_OUT, "no answer within the "
                        + "request-timeout", null);
            }
            if (cause != null && !(cause instanceof UpstreamException)) {
                return CompletableFuture.<Response>failedFuture(cause);
            }
            if (cause instanceof UpstreamException why) {
                if (why.kind() == UpstreamException.Kind.TOO_LARGE) {
                    return CompletableFuture.<Response>failedFuture(new BackendException(
                            BackendException.Kind.PROTOCOL, upstream + "'s answer is larger than " + maxResponseBytes
                            + " bytes", why));
                }
                LOG.log(System.Logger.Level.WARNING, upstream + " could not be reached: " + why.getMessage());
                return call(chain, index + 1, exchange, outgoing, why);
            }
            int status = answer.status();
            if ((status == 429 || status >= 500) && index < chain.size() - 1) {
                LOG.log(System.Logger.Level.INFO, upstream + " answered HTTP " + status + "; trying "
                        + chain.get(index + 1));
                close(answer);
                return call(chain, index + 1, exchange, outgoing, null);
            }
            try {
                return CompletableFuture.completedFuture(answer(upstream, exchange, outgoing, answer));
            } catch (RuntimeException e) {
                close(answer);
                return CompletableFuture.<Response>failedFuture(e);
            }
        }).thenCompose(next -> next);
    }

    /**
     * Sends {@code outgoing} to {@code upstream}. An answer read whole must come within the call's time; a streamed
     * request's answer must begin within it (the stage is cancelled then, which drops the call), and its body is
     * bounded by its stall guard only.
     */
    private CompletableFuture<UpstreamAnswer> send(Upstream upstream, Exchange exchange, Outgoing outgoing)
            throws BackendException {
        long waitNanos = requestTimeout.toNanos();
        if (exchange.deadlineNanos() != Long.MAX_VALUE) {
            long left = exchange.deadlineNanos() - System.nanoTime();
            if (left <= 0) {
                throw new BackendException(BackendException.Kind.TIMEOUT, "the request's deadline passed", null);
            }
            waitNanos = Math.min(waitNanos, left);
        }
        UpstreamRequest request = new UpstreamRequest(outgoing.method(),
                upstream.target(outgoing.path(), outgoing.model()),
                upstream.headers(outgoing.body() != null, exchange.requestHeaders().first("Accept")), outgoing.body(),
                outgoing.stream() ? UNBOUNDED_NANOS : waitNanos, maxResponseBytes,
                outgoing.stream() ? 0 : Integer.MAX_VALUE);
        CompletableFuture<UpstreamAnswer> answer = pools[upstream.instance().index()].send(request)
                .toCompletableFuture();
        if (outgoing.stream()) {
            ScheduledFuture<?> watchdog = Watchdogs.schedule(() -> answer.cancel(false), waitNanos);
            answer.whenComplete((ignored, failure) -> watchdog.cancel(false));
        }
        return answer;
    }

    /** Drops an answer nobody reads: a streamed one's connection is closed rather than drained. */
    private static void close(UpstreamAnswer answer) {
        if (answer.stream() != null) {
            try {
                answer.stream().close();
            } catch (IOException e) {
                // the connection is gone either way
            }
        }
    }

    /** Adds a successful call's tokens to {@code modelgate_llm_tokens_total} and to the exchange's {@link LlmCall}. */
    private void count(Exchange exchange, Upstream upstream, String model, TokenUsage usage) {
        if (model == null) {
            return;
        }
        exchange.setAttribute(LlmCall.ATTRIBUTE, new LlmCall(upstream.name(), model)
                .withTokens(usage.promptTokens(), usage.completionTokens()));
        Map<String, String> labels = Map.of("backend", String.valueOf(exchange.backendName()), "upstream",
                upstream.name(), "model", model);
        tokens(labels, "prompt").add(usage.promptTokens());
        tokens(labels, "completion").add(usage.completionTokens());
    }

    private Metrics.Counter tokens(Map<String, String> labels, String type) {
        Map<String, String> typed = new java.util.HashMap<>(labels);
        typed.put("type", type);
        return metrics.counter("modelgate_llm_tokens_total",
                "Tokens the upstreams reported using (prompt, completion), by backend, upstream and model", typed);
    }

    /**
     * A stream's pace: the time from the request's arrival to its first event, and from there to the usage chunk per
     * completion token, as histograms by backend and upstream. Used by the stream's writing thread only.
     */
    private final class StreamTimes {
        private final Exchange exchange;
        private final Map<String, String> labels;
        private long firstEventNanos;

        StreamTimes(Exchange exchange, Upstream upstream) {
            this.exchange = exchange;
            this.labels = Map.of("backend", String.valueOf(exchange.backendName()), "upstream", upstream.name());
        }

        void firstEvent() {
            firstEventNanos = System.nanoTime();
            metrics.histogram("modelgate_llm_time_to_first_token_seconds",
                    "From a streamed request's arrival to its first event, by backend and upstream.", labels,
                    TOKEN_TIME_BUCKETS).observe((firstEventNanos - exchange.startNanos()) / 1e9);
        }

        void tokens(long completionTokens) {
            if (firstEventNanos != 0 && completionTokens > 0) {
                metrics.histogram("modelgate_llm_time_per_output_token_seconds",
                        "A stream's time from its first event to its usage, per completion token, by backend and "
                                + "upstream.", labels, TOKEN_TIME_BUCKETS)
                        .observe((System.nanoTime() - firstEventNanos) / 1e9 / completionTokens);
            }
        }
    }

    /** The client's answer from {@code upstream}'s, which counts the call's tokens. */
    private Response answer(Upstream upstream, Exchange exchange, Outgoing outgoing, UpstreamAnswer answer) {
        String model = outgoing.model();
        exchange.setAttribute(LlmCall.ATTRIBUTE, new LlmCall(upstream.name(), model));
        StreamTimes times = new StreamTimes(exchange, upstream);
        Consumer<TokenUsage> onUsage = usage -> {
            count(exchange, upstream, model, usage);
            times.tokens(usage.completionTokens());
        };
        int status = answer.status();
        Headers headers = new Headers();
        answer.headers().forEach((name, value) -> {
            if (headers.first(name) == null && (PASSED_HEADERS.stream().anyMatch(name::equalsIgnoreCase)
                    || name.toLowerCase(Locale.ROOT).startsWith(RATE_LIMIT_HEADERS))) {
                headers.set(name, value);
            }
        });
        String contentType = answer.headers().first("Content-Type");
        String mediaType = contentType == null ? "" : contentType.split(";", 2)[0].strip().toLowerCase(Locale.ROOT);
        boolean events = status < 400 && mediaType.equals("text/event-stream");
        if (!events && !mediaType.equals("application/json")) {
            LOG.log(System.Logger.Level.WARNING, upstream + " answered HTTP " + status + " with '" + mediaType + "'");
            throw new RejectionException(OpenAiErrors.UPSTREAM_NOT_JSON, upstream + " answered HTTP " + status
                    + (mediaType.isEmpty() ? " without a content type" : " with " + mediaType));
        }
        StreamedBody stream = answer.streamed();
        if (stream == null) {
            byte[] bytes = answer.bytes();
            TokenUsage usage = status == 200 && !events ? TokenUsage.of(bytes, 0, bytes.length) : null;
            if (usage != null) {
                onUsage.accept(usage);
            }
            return new Response(status, headers, Body.of(bytes), 0);
        }
        // Should the exchange end without the body being written (a filter answered instead), the connection goes.
        exchange.onComplete(failure -> close(answer));
        if (!events) {
            return new Response(status, headers, new WholeJson(stream, onUsage), 0);
        }
        headers.set("Cache-Control", "no-cache");
        return new Response(status, headers, new EventStreamBody(stream, upstream.toString(), streamIdleTimeout,
                onUsage, outgoing.usageAdded(), times::firstEvent), 0);
    }

    /**
     * A JSON answer to a streamed request (an upstream that does not stream): read whole when written, on the
     * writing thread, its usage counted.
     */
    private record WholeJson(InputStream in, Consumer<TokenUsage> onUsage) implements Body {

        @Override
        public long length() {
            return -1;
        }

        @Override
        public void writeTo(OutputStream out) throws IOException {
            byte[] bytes;
            try (InputStream body = in) {
                bytes = body.readAllBytes();
            }
            TokenUsage usage = TokenUsage.of(bytes, 0, bytes.length);
            if (usage != null) {
                onUsage.accept(usage);
            }
            out.write(bytes);
        }
    }

    /** The upstream's model list, with the aliases listed as models of their own. */
    private Response withAliases(Response list) {
        if (list.status() != 200 || aliases.isEmpty()) {
            return list;
        }
        try {
            JsonNode root = Json.MAPPER.readTree(list.body().bytes());
            if (!(root.get("data") instanceof ArrayNode data)) {
                return list;
            }
            aliases.keySet().stream().sorted().forEach(alias -> {
                ObjectNode model = data.addObject();
                model.put("id", alias).put("object", "model").put("created", 0).put("owned_by", "modelgate");
            });
            return new Response(200, list.headers(), Body.of(Json.MAPPER.writeValueAsBytes(root)), 0);
        } catch (IOException e) {
            throw new RejectionException(OpenAiErrors.UPSTREAM_NOT_JSON, "the model list is not JSON");
        }
    }
}
