package dev.modelgate.plugins.http;

import dev.modelgate.plugins.pool.CallTime;
import dev.modelgate.plugins.pool.Instance;
import dev.modelgate.plugins.pool.InstanceOutcomes;
import dev.modelgate.plugins.pool.InstancePool;
import dev.modelgate.plugins.pool.PooledHttpClient;
import dev.modelgate.spi.BackendException;
import dev.modelgate.spi.Body;
import dev.modelgate.spi.Exchange;
import dev.modelgate.spi.Headers;
import dev.modelgate.spi.Metrics;
import dev.modelgate.spi.Principal;
import dev.modelgate.spi.ProxyBackend;
import dev.modelgate.spi.RejectionException;
import dev.modelgate.spi.Response;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.apache.hc.client5.http.classic.methods.HttpUriRequestBase;
import org.apache.hc.client5.http.config.RequestConfig;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.core5.http.ClassicHttpResponse;
import org.apache.hc.core5.http.Header;
import org.apache.hc.core5.http.HttpEntity;
import org.apache.hc.core5.http.HttpHeaders;
import org.apache.hc.core5.http.io.entity.ByteArrayEntity;
import org.apache.hc.core5.io.CloseMode;
import org.apache.hc.core5.util.Timeout;

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
 * <p>Thread-safety: {@link #forward} is called concurrently from many virtual threads; it blocks on the network, at
 * most {@code max-connections} calls at once per instance, the others waiting up to {@code pool-timeout} for a
 * connection.
 */
class HttpBackend implements ProxyBackend {

    /** The header carrying the time the gateway waits for this call, as the kernel reads it from clients. */
    static final String TIMEOUT_HEADER = "X-Request-Timeout";

    /** Headers that describe a body, passed with it both ways (Triton's binary tensor form has one of its own). */
    private static final List<String> BODY_HEADERS = List.of(HttpHeaders.CONTENT_TYPE, HttpHeaders.CONTENT_ENCODING,
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
    private final CloseableHttpClient client;
    private final InstancePool instances;
    /** By instance index: what the dialect's paths are appended to. */
    private final String[] serverBases;
    private final InstanceOutcomes outcomes;

    /**
     * Takes ownership of {@code client}, which owns its connection pool, and starts health checks when configured.
     *
     * @param name the backend's configured name, for metric labels and logs
     * @param nanoTime the monotonic time ejections are measured by, in nanoseconds; {@link System#nanoTime} outside
     *     tests
     */
    HttpBackend(HttpBackendSettings settings, CloseableHttpClient client, String name, Metrics metrics,
            System.Logger log, LongSupplier nanoTime) {
        this.settings = settings;
        this.client = client;
        HealthProbe probe = new HealthProbe(settings.pool().healthCheck(), client);
        this.instances = new InstancePool(settings.pool(), name, probe::probe, metrics, log, nanoTime);
        this.serverBases = new String[settings.pool().instances().size()];
        for (Instance instance : settings.pool().instances()) {
            serverBases[instance.index()] = serverBase(settings.protocol(), instance.url());
        }
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
    public Response forward(Exchange exchange) throws BackendException {
        String path = settings.protocol() == null ? "" : DialectPaths.call(settings.protocol(),
                backendModel(exchange.model()), exchange.modelVersion(), exchange.verb());
        return send(exchange, new Outgoing("POST", path, exchange.body(), exchange.requestHeaders()), true);
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
     * Sends {@code outgoing} to an instance the balancer picks among those this request has not tried yet.
     *
     * @param stream whether a large or open-ended successful answer may come back as a {@link StreamingBody}, which
     *     the caller must then write or read (see there); else the answer is read whole before this returns
     */
    Response send(Exchange exchange, Outgoing outgoing, boolean stream) throws BackendException {
        return call(instances.choose(exchange), exchange, outgoing, stream);
    }

    /**
     * Calls {@code instance} once. The call ends when its answer has been read whole, or, for an answer returned as
     * a {@link StreamingBody}, when that body ends: only then is the instance's outcome recorded, its in-flight count
     * lowered and the watchdog cancelled.
     *
     * @param stream whether a large or open-ended successful answer may be returned as a stream rather than read whole
     */
    private Response call(Instance instance, Exchange exchange, Outgoing outgoing, boolean stream)
            throws BackendException {
        CallTime time = CallTime.of(exchange, settings.requestTimeout());
        long waitNanos = time.waitNanos();
        boolean cutByDeadline = time.cutByDeadline();
        // The pool's wait is within the call's: never past the deadline either.
        long poolWaitNanos = Math.min(settings.poolTimeout().toNanos(), waitNanos);
        // Whole milliseconds, rounded down but never to zero, which Apache would read as "wait forever".
        long waitMillis = Math.max(1, TimeUnit.NANOSECONDS.toMillis(waitNanos));
        HttpUriRequestBase request = request(instance, exchange, outgoing, waitMillis);
        if (waitNanos < settings.requestTimeout().toNanos() || poolWaitNanos < settings.poolTimeout().toNanos()) {
            // The deadline is nearer than the backend's own timeouts; otherwise the client's defaults are these.
            request.setConfig(RequestConfig.custom()
                    .setConnectionRequestTimeout(Timeout.ofMilliseconds(
                            Math.max(1, TimeUnit.NANOSECONDS.toMillis(poolWaitNanos))))
                    .setResponseTimeout(Timeout.ofMilliseconds(waitMillis))
                    .build());
        }
        BackendCall call = new BackendCall(outcomes, instance, request, cutByDeadline, settings.maxResponseBytes());
        call.watch(waitNanos);
        boolean streaming = false;
        try {
            ClassicHttpResponse response = PooledHttpClient.open(client, request, call::expired);
            try {
                if (stream && streams(response)) {
                    Response answer = call.stream(response, headers(response, true), exchange);
                    streaming = true;
                    return answer;
                }
                Response answer = whole(response, body(response.getEntity(), request));
                call.answered(answer.status());
                return answer;
            } finally {
                if (!streaming) {
                    closeQuietly(response);
                }
            }
        } catch (IOException e) {
            throw call.failed(e);
        } finally {
            if (!streaming) {
                call.end();
            }
        }
    }

    /**
     * Whether to pass the answer on as it arrives: a success of unknown length (chunked, server-sent events) or
     * longer than {@link #READ_WHOLE_BYTES}. Errors are read whole: they are short, and middlewares look at them and
     * may drop them (a retry does), which would leave a stream holding its connection until the call's time limit.
     */
    private boolean streams(ClassicHttpResponse response) {
        HttpEntity entity = response.getEntity();
        if (entity == null || response.getCode() < 200 || response.getCode() >= 300) {
            return false;
        }
        long declared = entity.getContentLength();
        // A declared length past the limit is refused by body(), before a byte of it is read.
        return declared < 0 || (declared > READ_WHOLE_BYTES && declared <= settings.maxResponseBytes());
    }

    private HttpUriRequestBase request(Instance instance, Exchange exchange, Outgoing outgoing, long waitMillis) {
        HttpUriRequestBase request = new HttpUriRequestBase(outgoing.method(), outgoing.path().isEmpty()
                ? instance.url() : URI.create(serverBases[instance.index()] + outgoing.path()));
        Headers incoming = exchange.requestHeaders();
        for (String header : settings.forwardHeaders()) {
            for (String value : incoming.all(header)) {
                request.addHeader(header, value);
            }
        }
        for (String header : BODY_HEADERS) {
            String value = outgoing.bodyHeaders().first(header);
            if (value != null) {
                request.setHeader(header, value);
            }
        }
        Principal principal = exchange.attribute(Principal.ATTRIBUTE);
        if (principal != null) {
            request.setHeader(SUBJECT_HEADER, principal.subject());
            // Sorted, so that a backend or its cache sees one spelling per set of roles (one role needs no sorting).
            Set<String> roles = principal.roles();
            request.setHeader(ROLES_HEADER, String.join(",", roles.size() < 2 ? roles : new TreeSet<>(roles)));
        }
        // The instance may stop work the gateway no longer waits for, and pass the rest of the deadline on.
        request.setHeader(TIMEOUT_HEADER, waitMillis + "ms");
        if (outgoing.body() != null) {
            request.setEntity(new ByteArrayEntity(outgoing.body(), null));
        }
        return request;
    }

    /**
     * The URL an instance's dialect paths follow, without a trailing slash: its url, or with a protocol and a whole call
     * URL as its url (a TF Serving predict URL), that URL's server part.
     */
    private static String serverBase(String protocol, URI url) {
        java.util.regex.Matcher call = protocol == null ? null : DialectPaths.callOf(protocol, url.getRawPath());
        String base = (call == null ? url : url.resolve(call.group(1).isEmpty() ? "/" : call.group(1))).toString();
        return base.endsWith("/") ? base.substring(0, base.length() - 1) : base;
    }

    /**
     * An answer read whole. The usual one describes its body by its content type alone, and is made without the
     * copy of its headers the {@link Response} constructor takes.
     */
    private static Response whole(ClassicHttpResponse response, byte[] body) {
        Header contentType = response.getFirstHeader(HttpHeaders.CONTENT_TYPE);
        if (contentType != null && countBodyHeaders(response) == 1) {
            return Response.of(response.getCode(), contentType.getValue(), body);
        }
        return new Response(response.getCode(), headers(response, false), Body.of(body), 0);
    }

    /** How many of {@link #BODY_HEADERS} the answer has. */
    private static int countBodyHeaders(ClassicHttpResponse response) {
        int count = 0;
        for (String name : BODY_HEADERS) {
            if (response.containsHeader(name)) {
                count++;
            }
        }
        return count;
    }

    /**
     * The headers of the backend's answer that describe its body; with {@code declaredLength}, its
     * {@code Content-Length} too, for a streamed body (see {@link StreamingBody#length()}).
     */
    private static Headers headers(ClassicHttpResponse response, boolean declaredLength) {
        Headers headers = new Headers();
        for (String name : BODY_HEADERS) {
            Header header = response.getFirstHeader(name);
            if (header != null) {
                headers.set(name, header.getValue());
            }
        }
        long length = response.getEntity() == null ? -1 : response.getEntity().getContentLength();
        if (declaredLength && length >= 0) {
            headers.set(HttpHeaders.CONTENT_LENGTH, Long.toString(length));
        }
        return headers;
    }

    /**
     * Reads the whole body. Reading to its end hands the connection back to the pool; past the limit the request is
     * aborted, so that the connection is dropped rather than drained of a body nobody will read.
     */
    private byte[] body(HttpEntity entity, HttpUriRequestBase request) throws IOException, BackendException {
        if (entity == null) {
            return new byte[0];
        }
        int limit = settings.maxResponseBytes();
        if (entity.getContentLength() > limit) {
            request.cancel();
            throw tooLarge();
        }
        try (InputStream in = entity.getContent()) {
            long declared = entity.getContentLength();
            if (declared >= 0) {
                // The usual case: one array of the exact size, not the growing chunks of an open-ended read.
                return in.readNBytes((int) declared);
            }
            byte[] bytes = in.readNBytes(limit + 1);
            if (bytes.length > limit) {
                request.cancel();
                throw tooLarge();
            }
            return bytes;
        }
    }

    private RejectionException tooLarge() {
        return CallFailure.tooLarge(settings.maxResponseBytes()).asRejection();
    }

    private static void closeQuietly(ClassicHttpResponse response) {
        try {
            response.close();
        } catch (IOException e) {
            // Closing after an abort: the connection is dropped either way.
        }
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

    /** Stops health checks, then closes the pool once in-flight calls have handed their connections back. */
    @Override
    public void close() {
        instances.close();
        client.close(CloseMode.GRACEFUL);
    }
}
