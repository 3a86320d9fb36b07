package dev.modelgate.plugins.openai;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.modelgate.plugins.pool.BuiltInBalancers;
import dev.modelgate.plugins.pool.Instance;
import dev.modelgate.plugins.pool.PooledHttpClient;
import dev.modelgate.spi.BackendException;
import dev.modelgate.spi.Body;
import dev.modelgate.spi.Exchange;
import dev.modelgate.spi.Headers;
import dev.modelgate.spi.Json;
import dev.modelgate.spi.LlmCall;
import dev.modelgate.spi.Metrics;
import dev.modelgate.spi.ProxyBackend;
import dev.modelgate.spi.RejectionException;
import dev.modelgate.spi.Response;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.apache.hc.client5.http.classic.methods.HttpUriRequestBase;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.core5.http.ClassicHttpResponse;
import org.apache.hc.core5.http.Header;
import org.apache.hc.core5.io.CloseMode;

/**
 * Forwards the OpenAI front's calls to OpenAI-compatible upstreams, chosen by the body's {@code model} after
 * {@code aliases}: the upstreams that serve the model, in their configured order (the one drawn by weight among the
 * weighted ones first), form its fallback chain. The next one is tried when one cannot be reached or answers 429 or
 * 5xx; all of that happens before the client has any byte of the answer, so a stream that has begun is never retried
 * elsewhere. A streamed answer is relayed event by event ({@link EventStreamBody}); any other answer must be JSON,
 * read whole within {@code max-response-size}.
 *
 * <p>Upstreams are called as the {@code http} backend calls its servers: Apache's classic client blocking on the
 * request's own virtual thread, over the backend's connection pool
 * ({@link PooledHttpClient}). A call waits at most {@code request-timeout} (never past
 * the request's deadline) for its answer to begin, and for an answer that is not streamed, to end. A client that goes
 * away while a stream is relayed cancels its upstream call: the failed write closes the upstream's stream, which
 * drops its connection rather than drain it.
 *
 * <p>Thread-safe: one shared HTTP client and the balancer's locked weights, no other state across calls.
 */
final class OpenAiBackend implements ProxyBackend {

    /** Seconds, from a fast local model's token to a slow first token of a large one. */
    private static final double[] TOKEN_TIME_BUCKETS = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
        5, 10, 30};

    private static final System.Logger LOG = System.getLogger(OpenAiBackend.class.getName());
    private static final String MODELS = "models";
    /** Upstream headers a client may see: the body's type and the upstream's rate-limit advice. */
    private static final List<String> PASSED_HEADERS = List.of("Content-Type", "Retry-After");
    private static final String RATE_LIMIT_HEADERS = "x-ratelimit-";

    private final List<Upstream> upstreams;
    private final Map<String, String> aliases;
    private final Duration requestTimeout;
    private final long maxResponseBytes;
    private final CloseableHttpClient client;
    private final Metrics metrics;
    private final boolean askForUsage;
    private final Duration streamIdleTimeout;
    private final BuiltInBalancers.SmoothWeighted balancer;

    /**
     * @param askForUsage whether streams whose client set no {@code stream_options} are asked for their usage
     * @param streamIdleTimeout the longest a stream may wait for its upstream's next byte
     */
    OpenAiBackend(List<Upstream> upstreams, Map<String, String> aliases, CloseableHttpClient client,
            Duration requestTimeout, long maxResponseBytes, Metrics metrics, boolean askForUsage,
            Duration streamIdleTimeout) {
        this.streamIdleTimeout = streamIdleTimeout;
        this.balancer = new BuiltInBalancers.SmoothWeighted(upstreams.size());
        this.metrics = metrics;
        this.askForUsage = askForUsage;
        this.upstreams = List.copyOf(upstreams);
        this.aliases = Map.copyOf(aliases);
        this.requestTimeout = requestTimeout;
        this.maxResponseBytes = maxResponseBytes;
        this.client = client;
    }

    @Override
    public String dialect() {
        return "openai";
    }

    @Override
    public void close() {
        client.close(CloseMode.GRACEFUL);
    }

    @Override
    public Response forward(Exchange exchange) throws BackendException {
        String verb = exchange.verb();
        if (verb.equals(MODELS)) {
            return withAliases(call(upstreams, exchange, "GET", verb, null, null, false));
        }
        if (verb.startsWith(MODELS + "/")) {
            String model = resolve(verb.substring(MODELS.length() + 1));
            return call(chainOf(model, exchange), exchange, "GET", MODELS + "/" + model, null, null, false);
        }
        OpenAiRequest request = OpenAiRequest.read(exchange.body());
        String model = resolve(request.model());
        boolean addUsage = askForUsage && request.usageMayBeAdded();
        return call(chainOf(model, exchange), exchange, "POST", verb,
                request.forwarded(exchange.body(), model, addUsage), model, addUsage);
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
     * The answer of the first upstream of {@code chain} that gives one: an upstream that cannot be reached or answers
     * 429 or 5xx passes the call on to the next, and the last one's answer stands.
     *
     * @param model the model whose tokens the answer's usage counts, or {@code null} for a call without usage
     * @param usageAdded whether the gateway asked for a stream's usage, which the client then does not get
     */
    private Response call(List<Upstream> chain, Exchange exchange, String method, String path, byte[] body,
            String model, boolean usageAdded) throws BackendException {
        Exception failure = null;
        boolean timedOut = false;
        for (int i = 0; i < chain.size(); i++) {
            Upstream upstream = chain.get(i);
            HttpUriRequestBase request = upstream.request(method, path, model, body,
                    exchange.requestHeaders().first("Accept"));
            UpstreamCall call = new UpstreamCall(request, waitNanos(exchange));
            ClassicHttpResponse answer;
            try {
                answer = PooledHttpClient.open(client, request, call::expired);
            } catch (IOException e) {
                call.unwatch();
                timedOut = call.expired() || e instanceof InterruptedIOException;
                LOG.log(System.Logger.Level.WARNING, upstream + " could not be reached: "
                        + (call.expired() ? "no answer within the request-timeout" : e));
                failure = e;
                continue;
            }
            int status = answer.getCode();
            if ((status == 429 || status >= 500) && i < chain.size() - 1) {
                LOG.log(System.Logger.Level.INFO, upstream + " answered HTTP " + status + "; trying "
                        + chain.get(i + 1));
                call.drop(answer);
                continue;
            }
            exchange.setAttribute(LlmCall.ATTRIBUTE, new LlmCall(upstream.name(), model));
            StreamTimes times = new StreamTimes(exchange, upstream);
            return answer(upstream, call, answer, usage -> {
                count(exchange, upstream, model, usage);
                times.tokens(usage.completionTokens());
            }, usageAdded, times::firstEvent);
        }
        throw new BackendException(timedOut ? BackendException.Kind.TIMEOUT : BackendException.Kind.UNAVAILABLE,
                "no upstream could be reached: " + chain, failure);
    }

    /** The request-timeout in nanoseconds, or less when the request's deadline comes sooner. */
    private long waitNanos(Exchange exchange) throws BackendException {
        long left = exchange.deadlineNanos() - System.nanoTime();
        if (left <= 0) {
            throw new BackendException(BackendException.Kind.TIMEOUT, "the request's deadline passed", null);
        }
        return Math.min(left, requestTimeout.toNanos());
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

    private Response answer(Upstream upstream, UpstreamCall call, ClassicHttpResponse answer,
            Consumer<TokenUsage> onUsage, boolean usageAdded, Runnable onFirstEvent) throws BackendException {
        int status = answer.getCode();
        Headers headers = new Headers();
        for (Header header : answer.getHeaders()) {
            String name = header.getName();
            if (headers.first(name) == null && (PASSED_HEADERS.stream().anyMatch(name::equalsIgnoreCase)
                    || name.toLowerCase(java.util.Locale.ROOT).startsWith(RATE_LIMIT_HEADERS))) {
                headers.set(name, header.getValue());
            }
        }
        Header contentType = answer.getFirstHeader("Content-Type");
        String mediaType = contentType == null ? "" : contentType.getValue()
                .split(";", 2)[0].strip().toLowerCase(java.util.Locale.ROOT);
        InputStream body;
        try {
            body = call.body(answer);
        } catch (IOException e) {
            call.drop(answer);
            throw new BackendException(BackendException.Kind.UNAVAILABLE, upstream + "'s answer broke off", e);
        }
        if (status < 400 && mediaType.equals("text/event-stream")) {
            // From here the stall guard bounds the stream, not the time to its first byte.
            call.unwatch();
            headers.set("Cache-Control", "no-cache");
            return new Response(status, headers, new EventStreamBody(body, upstream.toString(),
                    streamIdleTimeout, onUsage, usageAdded, onFirstEvent), 0);
        }
        byte[] bytes;
        // A whole answer is read within the call's time too: an upstream that drips it must not hold the request.
        try (InputStream in = body) {
            bytes = in.readNBytes((int) Math.min(maxResponseBytes + 1, Integer.MAX_VALUE - 8));
        } catch (IOException e) {
            throw new BackendException(call.expired() ? BackendException.Kind.TIMEOUT
                    : BackendException.Kind.UNAVAILABLE, upstream + "'s answer broke off", e);
        } finally {
            call.unwatch();
        }
        if (bytes.length > maxResponseBytes) {
            throw new BackendException(BackendException.Kind.PROTOCOL, upstream + "'s answer is larger than "
                    + maxResponseBytes + " bytes", null);
        }
        if (!mediaType.equals("application/json")) {
            LOG.log(System.Logger.Level.WARNING, upstream + " answered HTTP " + status + " with '" + mediaType + "'");
            throw new RejectionException(OpenAiErrors.UPSTREAM_NOT_JSON, upstream + " answered HTTP " + status
                    + (mediaType.isEmpty() ? " without a content type" : " with " + mediaType));
        }
        TokenUsage usage = status == 200 ? TokenUsage.of(bytes, 0, bytes.length) : null;
        if (usage != null) {
            onUsage.accept(usage);
        }
        return new Response(status, headers, Body.of(bytes), 0);
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
