package dev.modelgate.plugins.http;

import dev.modelgate.plugins.pool.AsyncProxyBackend;
import dev.modelgate.plugins.pool.CallTime;
import dev.modelgate.plugins.pool.ConnectionGauges;
import dev.modelgate.plugins.pool.Instance;
import dev.modelgate.plugins.pool.InstanceOutcomes;
import dev.modelgate.plugins.pool.InstancePool;
import dev.modelgate.spi.BackendException;
import dev.modelgate.spi.Body;
import dev.modelgate.spi.Exchange;
import dev.modelgate.spi.Headers;
import dev.modelgate.spi.PluginContext;
import dev.modelgate.spi.Principal;
import dev.modelgate.spi.Response;
import dev.modelgate.spi.upstream.UpstreamAnswer;
import dev.modelgate.spi.upstream.UpstreamPool;
import dev.modelgate.spi.upstream.UpstreamRequest;
import dev.modelgate.spi.upstream.UpstreamSettings;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Posts the request body as it came to one of the backend's instances over pooled keep-alive connections and
 * returns the instance's status, content type and body unchanged: the reverse proxy the seed article sketches, with
 * the pooling, timeouts, error mapping, load balancing and health checks it lacks.
 *
 * <p>One call: the first routing rule the request matches chooses the pool of instances (else the default
 * instances); the balancer chooses among those of the pool that are healthy and not ejected, or among the whole pool
 * when none is (Envoy's panic mode: a guess at a sick instance beats a certain 503, and health checks can be wrong).
 * The call waits for the answer at most {@code request-timeout}, and never past the request's deadline; the time it
 * waits is sent on as {@code X-Request-Timeout}.
 *
 * <p>A successful answer of unknown length (chunked: server-sent events) or longer than {@link #READ_WHOLE_BYTES}
 * comes back from {@link #forward} as a {@link StreamingBody}, passed to the client chunk by chunk; the call ends,
 * for the instance's in-flight count, its outcome and its pooled connection, when that stream ends. Whoever gets the
 * answer must write or read its body (see {@link StreamingBody} for who releases it otherwise). Anything else, and
 * every answer of {@link #send} without {@code stream}, is read whole before the call returns.
 *
 * <p>One call per {@link #forward}: retrying is the {@code retry} middleware's, which runs the pipeline, and so this
 * backend, again with the same exchange. The exchange remembers which instances of this backend the request already
 * tried, and the balancer chooses among those not tried yet when there are any, so that a retry goes to another
 * instance when there is one.
 *
 * <p>The calls go through the kernel's upstream pools ({@link PluginContext#upstreamHttp()}), one per instance, on the
 * gateway's IO threads: {@link #forwardAsync} never blocks, and a call made on an IO thread stays on it.
 * {@link #forward} and {@link #send} are the same call, waited for.
 *
 * <p>Thread-safety: called concurrently from many threads, IO threads and virtual ones; at most
 * {@code max-connections} calls at once per instance, the others waiting up to {@code pool-timeout} for a
 * connection.
 */
class HttpBackend implements AsyncProxyBackend {

    /** The header carrying the time the gateway waits for this call, as the kernel reads it from clients. */
    static final String TIMEOUT_HEADER = "X-Request-Timeout";

    private static final String CONTENT_TYPE = "Content-Type";
    private static final String CONTENT_LENGTH = "Content-Length";

    /** Headers that describe a body, passed with it both ways (Triton's binary tensor form has one of its own). */
    private static final List<String> BODY_HEADERS = List.of(CONTENT_TYPE, "Content-Encoding",
            "Inference-Header-Content-Length");

    /**
     * Answers of a declared length up to this are read whole, larger ones streamed. A small body is cheaper read at
     * once: one exact-size array, and the pooled connection is free again before the client is written to, rather
     * than held while a slow client reads. Past this size, holding the whole body costs more than holding the
     * connection.
     */
    static final int READ_WHOLE_BYTES = 64 * 1024;

    /** Who the request authenticated as; backends may trust them, as the kernel drops any a client sends. */
    private static final String SUBJECT_HEADER = "X-Modelgate-Subject";
    private static final String ROLES_HEADER = "X-Modelgate-Roles";

    private final HttpBackendSettings settings;
    /** By instance index: its connections. */
    private final UpstreamPool[] pools;
    private final InstancePool instances;
    /** By instance index: the path dialect paths are appended to, without a trailing slash. */
    private final String[] basePaths;
    /** By instance index: the request target of a call without a dialect path (the instance's url's). */
    private final String[] ownTargets;
    private final InstanceOutcomes outcomes;

    /**
     * Opens a connection pool per instance and starts health checks when configured.
     *
     * @param name the backend's configured name, for metric labels and logs
     * @param nanoTime the monotonic time ejections are measured by, in nanoseconds; {@link System#nanoTime} outside
     *     tests
     */
    HttpBackend(HttpBackendSettings settings, PluginContext context, String name, LongSupplier nanoTime) {
        this.settings = settings;
        List<Instance> all = settings.pool().instances();
        this.pools = new UpstreamPool[all.size()];
        this.basePaths = new String[all.size()];
        this.ownTargets = new String[all.size()];
        UpstreamSettings pooling = new UpstreamSettings(settings.maxConnections(), settings.connectTimeout(),
                settings.poolTimeout(), settings.idleTimeout(), settings.maxConnectionLifetime());
        for (Instance instance : all) {
            pools[instance.index()] = context.upstreamHttp().open(instance.url(), pooling);
            basePaths[instance.index()] = basePath(settings.protocol(), instance.url());
            ownTargets[instance.index()] = target(instance.url());
        }
        ConnectionGauges.export(context, pools);
        HealthProbe probe = new HealthProbe(settings.pool().healthCheck(), instance -> pools[instance.index()]);
        this.instances = new InstancePool(settings.pool(), name, probe::probe, context.metrics(), context.logger(),
                nanoTime);
        this.outcomes = instances.outcomes();
    }

    /** Without a protocol the URL takes the gateway's TensorFlow Serving bodies; with one, that dialect's. */
    @Override
    public String dialect() {
        return settings.protocol() == null ? "tf-serving" : settings.protocol();
    }

    /**
     * Forwards the client's body, and the headers that describe it, to the instance's URL, or with a protocol to the
     * dialect's path for the call ({@code /v1/models/{m}:predict}, {@code /v2/models/{m}/infer}).
     */
    @Override
    public CompletionStage<Response> forwardAsync(Exchange exchange) {
        try {
            String path = settings.protocol() == null ? "" : DialectPaths.call(settings.protocol(),
                    backendModel(exchange.model()), exchange.modelVersion(), exchange.verb());
            return sendAsync(exchange, new Outgoing("POST", path, exchange.body(), exchange.requestHeaders()), true);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    /** The model's name on the backend: the configured {@code model-name}, else the name clients use. */
    String backendModel(String model) {
        return settings.modelName() != null ? settings.modelName() : model;
    }

    /**
     * One request to send: method, the path after an instance's URL, and the body with headers describing it, of
     * which those of {@link #BODY_HEADERS} are sent (the client's own headers, uncopied, when forwarding).
     */
    record Outgoing(String method, String path, byte[] body, Headers bodyHeaders) {
    }

    /**
     * Sends {@code outgoing} to an instance the balancer picks among those this request has not tried yet, and
     * waits for the answer.
     *
     * @param stream whether a large or open-ended successful answer may come back as a {@link StreamingBody}, which
     *     the caller must then write or read (see there); else the answer is read whole before this returns
     */
    Response send(Exchange exchange, Outgoing outgoing, boolean stream) throws BackendException {
        return AsyncProxyBackend.await(sendAsync(exchange, outgoing, stream));
    }

    private CompletableFuture<Response> sendAsync(Exchange exchange, Outgoing outgoing, boolean stream) {
        return call(instances.choose(exchange), exchange, outgoing, stream);
    }

    /**
     * Calls {@code instance} once. The call ends when its answer has been read whole, or, for an answer returned as
     * a {@link StreamingBody}, when that body ends: only then is the instance's outcome recorded and its in-flight
     * count lowered.
     *
     * @param stream whether a large or open-ended successful answer may be returned as a stream rather than read whole
     */
    private CompletableFuture<Response> call(Instance instance, Exchange exchange, Outgoing outgoing, boolean stream) {
        CallTime time = CallTime.of(exchange, settings.requestTimeout());
        long waitNanos = time.waitNanos();
        // Whole milliseconds, rounded down but never to zero, which would read as "no time at all".
        long waitMillis = Math.max(1, TimeUnit.NANOSECONDS.toMillis(waitNanos));
        UpstreamRequest request = new UpstreamRequest(outgoing.method(), outgoing.path().isEmpty()
                ? ownTargets[instance.index()] : basePaths[instance.index()] + outgoing.path(),
                headers(exchange, outgoing, waitMillis), outgoing.body(), waitNanos, settings.maxResponseBytes(),
                stream ? READ_WHOLE_BYTES : Integer.MAX_VALUE);
        BackendCall call = new BackendCall(outcomes, instance, time.cutByDeadline(), settings.maxResponseBytes());
        return pools[instance.index()].send(request).toCompletableFuture().handle((answer, failure) -> {
            if (failure != null) {
                call.end();
                throw new CompletionException(call.failed(failure));
            }
            if (answer.stream() != null) {
                return call.stream(answer.stream(), answer.status(),
                        headers(answer.headers(), answer.declaredLength()), exchange, waitNanos);
            }
            call.answered(answer.status());
            call.end();
            return whole(answer);
        });
    }

    /** The headers sent: those forwarded from the client, those describing the body, who asked and the time left. */
    private Headers headers(Exchange exchange, Outgoing outgoing, long waitMillis) {
        Headers headers = new Headers();
        Headers incoming = exchange.requestHeaders();
        for (String header : settings.forwardHeaders()) {
            for (String value : incoming.all(header)) {
                headers.add(header, value);
            }
        }
        for (String header : BODY_HEADERS) {
            String value = outgoing.bodyHeaders().first(header);
            if (value != null) {
                headers.set(header, value);
            }
        }
        Principal principal = exchange.attribute(Principal.ATTRIBUTE);
        if (principal != null) {
            headers.set(SUBJECT_HEADER, principal.subject());
            // Sorted, so that a backend or its cache sees one spelling per set of roles (one role needs no sorting).
            Set<String> roles = principal.roles();
            headers.set(ROLES_HEADER, String.join(",", roles.size() < 2 ? roles : new TreeSet<>(roles)));
        }
        // The instance may stop work the gateway no longer waits for, and pass the rest of the deadline on.
        headers.set(TIMEOUT_HEADER, waitMillis + "ms");
        return headers;
    }

    /**
     * The path an instance's dialect paths follow, without a trailing slash: its url's, or with a protocol and a
     * whole call URL as its url (a TF Serving predict URL), that of the URL's server part.
     */
    private static String basePath(String protocol, URI url) {
        java.util.regex.Matcher call = protocol == null ? null : DialectPaths.callOf(protocol, url.getRawPath());
        String base = call == null ? url.getRawPath() : call.group(1);
        return base.endsWith("/") ? base.substring(0, base.length() - 1) : base;
    }

    /** The request target of {@code url}: its raw path and query. */
    static String target(URI url) {
        String path = url.getRawPath() == null || url.getRawPath().isEmpty() ? "/" : url.getRawPath();
        return url.getRawQuery() == null ? path : path + "?" + url.getRawQuery();
    }

    /**
     * An answer read whole. The usual one describes its body by its content type alone, and is made without the
     * copy of its headers the {@link Response} constructor takes.
     */
    private static Response whole(UpstreamAnswer answer) {
        String contentType = answer.headers().first(CONTENT_TYPE);
        if (contentType != null && countBodyHeaders(answer.headers()) == 1) {
            return Response.of(answer.status(), contentType, answer.bytes());
        }
        return new Response(answer.status(), headers(answer.headers(), -1), Body.of(answer.bytes()), 0);
    }

    /** How many of {@link #BODY_HEADERS} the answer has. */
    private static int countBodyHeaders(Headers answer) {
        int count = 0;
        for (String name : BODY_HEADERS) {
            if (answer.contains(name)) {
                count++;
            }
        }
        return count;
    }

    /**
     * The headers of the backend's answer that describe its body; with a {@code declaredLength} of 0 or more, its
     * {@code Content-Length} too, for a streamed body (see {@link StreamingBody#length()}).
     */
    private static Headers headers(Headers answer, long declaredLength) {
        Headers headers = new Headers();
        for (String name : BODY_HEADERS) {
            String value = answer.first(name);
            if (value != null) {
                headers.set(name, value);
            }
        }
        if (declaredLength >= 0) {
            headers.set(CONTENT_LENGTH, Long.toString(declaredLength));
        }
        return headers;
    }

    /** The longest one attempt may take: connecting, then waiting for the answer. */
    @Override
    public Optional<Duration> callTimeout() {
        return Optional.of(settings.connectTimeout().plus(settings.requestTimeout()));
    }

    /** Ready while the instances are: see {@link InstancePool#ready}. */
    @Override
    public boolean ready() {
        return instances.ready();
    }

    /** Stops health checks, then closes the pools: calls in flight end as they would. */
    @Override
    public void close() {
        instances.close();
        for (UpstreamPool pool : pools) {
            pool.close();
        }
    }
}
