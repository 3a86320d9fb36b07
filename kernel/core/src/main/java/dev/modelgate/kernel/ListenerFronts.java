package dev.modelgate.kernel;

import dev.modelgate.spi.Body;
import dev.modelgate.spi.BackendErrorText;
import dev.modelgate.spi.CoreErrors;
import dev.modelgate.spi.ErrorCode;
import dev.modelgate.spi.Exchange;
import dev.modelgate.spi.Headers;
import dev.modelgate.spi.Metrics;
import dev.modelgate.spi.Operation;
import dev.modelgate.spi.Response;
import dev.modelgate.spi.front.ClientGone;
import dev.modelgate.spi.front.FrontContext;
import dev.modelgate.spi.front.FrontRequest;
import dev.modelgate.spi.front.ListenerFront;
import dev.modelgate.spi.front.Pipeline;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * The kernel's side of the fronts that plugins run on listeners of their own ({@link ListenerFront}): the
 * {@link Pipeline} their calls go through, the {@link Front} whose shape those calls take, and the
 * {@link FrontContext} they are built with.
 */
final class ListenerFronts {

    private static final System.Logger LOG = System.getLogger(ListenerFronts.class.getName());

    private ListenerFronts() {
    }

    /** What a {@link dev.modelgate.spi.front.FrontProvider} is built with. */
    record Context(ServerSettings server, ErrorCatalog catalog, Metrics metrics, System.Logger logger)
            implements FrontContext {

        @Override
        public String address() {
            return server.address();
        }

        @Override
        public int port() {
            return server.grpcPort();
        }

        /** Read from the files when asked: they were checked when the configuration was built. */
        @Override
        public javax.net.ssl.X509ExtendedKeyManager tlsKeyManager() {
            if (server.tls() == null) {
                return null;
            }
            try {
                return TlsContexts.keyManager(server.tls());
            } catch (java.io.IOException | java.security.GeneralSecurityException e) {
                throw new IllegalStateException("cannot read server.tls: " + e.getMessage(), e);
            }
        }

        @Override
        public long maxBodyBytes() {
            return server.maxBodyBytes();
        }

        @Override
        public int maxHeaderBytes() {
            return server.maxHeaderBytes();
        }

        @Override
        public Duration idleTimeout() {
            return server.idleTimeout();
        }

        @Override
        public int maxConcurrentStreams() {
            return server.http2MaxConcurrentStreams();
        }

        @Override
        public Duration shutdownTimeout() {
            return server.shutdownTimeout();
        }

        @Override
        public String serverVersion() {
            return Main.version();
        }

        @Override
        public Optional<ErrorCode> errorCode(int code) {
            return catalog.find(code);
        }
    }

    /**
     * The pipeline of the deployment being served, as the listener fronts call it: each call (each message of a
     * stream) holds a lease on the deployment it started on until its answer is built.
     */
    record RealPipeline(LiveDeployment deployment, MetricsRegistry metrics, BooleanSupplier readiness)
            implements Pipeline {

        @Override
        public Response serve(FrontRequest request) {
            Deployment current = deployment.acquire();
            try {
                return serve(request, current);
            } finally {
                deployment.release(current);
            }
        }

        private Response serve(FrontRequest request, Deployment current) {
            long start = System.nanoTime();
            Shape front = new Shape(request.front(), request.bodyDialect());
            String method = request.operation() == Operation.PREDICT ? "POST" : "GET";
            Refusal refusal = request.refusal() == null ? null
                    : new Refusal(request.refusal(), request.refusalDetail());
            FrontCall call = refusal != null ? null : new FrontCall(front, request.operation(), request.model(),
                    request.modelVersion(), request.verb(), method, null);
            Dispatcher.Target target = Dispatcher.target(current, metrics, call, front, method,
                    request.path(), refusal);
            CallTransport transport = new CallTransport(method, request.path(), request.clientAddress(),
                    request.clientGone());
            Headers headers = new Headers();
            request.headers().forEach((name, value) -> {
                if (!RealExchange.isGatewayHeader(name)) {
                    headers.add(name, value);
                }
            });
            Deadline deadline = Deadline.of(start, target.timeout(), request.deadlineNanos());
            RealExchange exchange = Dispatcher.exchange(current, transport, headers, call, front, target, deadline,
                    new RequestBody(request.body(), null), start);
            Response response = Dispatcher.run(current, metrics, request.front(), exchange, target, deadline);
            return transport.buffered(response, front);
        }

        @Override
        public boolean ready() {
            return readiness.getAsBoolean();
        }

        @Override
        public Optional<Boolean> modelReady(String model) {
            Map<String, Route> versions = deployment.current().routes().get(model);
            return versions == null ? Optional.empty()
                    : Optional.of(versions.values().iterator().next().backend().ready());
        }
    }

    /** A listener front's call: a POST (or GET, for calls that change nothing) with its answer kept in memory. */
    private static final class CallTransport implements Transport {
        private final String method;
        private final String path;
        private final String clientAddress;
        private final ClientGone clientGone;
        /** What unregisters each client-gone listener once the call is answered. */
        private final List<Runnable> unregister = new ArrayList<>(1);
        private Consumer<Throwable> done;

        CallTransport(String method, String path, String clientAddress, ClientGone clientGone) {
            this.method = method;
            this.path = path;
            this.clientAddress = clientAddress == null ? "" : clientAddress;
            this.clientGone = clientGone;
        }

        @Override
        public String method() {
            return method;
        }

        @Override
        public String path() {
            return path;
        }

        @Override
        public String queryParameter(String name) {
            return null;
        }

        @Override
        public String peerAddress() {
            return clientAddress;
        }

        @Override
        public void whenComplete(Consumer<Throwable> done) {
            this.done = done;
        }

        @Override
        public void whenClientGone(Runnable gone) {
            unregister.add(clientGone.whenGone(gone));
        }

        /**
         * {@code response} with its body in memory, as a front sends it in one message; the exchange is complete
         * once it is, which is when a streamed answer's listeners (access log, bulkhead place) run.
         */
        Response buffered(Response response, Front front) {
            Throwable failure = null;
            Response answer = response;
            if (response.body().length() < 0) {
                try {
                    answer = new Response(response.status(), response.headers(), Body.of(response.body().bytes()),
                            response.code());
                } catch (RuntimeException e) {
                    LOG.log(System.Logger.Level.ERROR, "a streaming response body failed on " + path, e);
                    failure = e;
                    answer = front.error(CoreErrors.INTERNAL, null);
                }
            }
            unregister.forEach(Runnable::run);
            if (done != null) {
                done.accept(failure);
            }
            return answer;
        }
    }

    /**
     * The shape a listener front's calls take in the pipeline: named after the front (as routes list it in
     * {@code fronts:}), its bodies read and written by the codecs of {@code bodyDialect}, its errors a status, the
     * code in {@link #CODE_HEADER} and the client-safe message as plain text, which the front renders in its own
     * protocol.
     */
    record Shape(String dialect, String bodyDialect) implements Front {

        @Override
        public FrontCall match(String method, String path, String accept) {
            return null;
        }

        @Override
        public Response error(ErrorCode errorCode, String detail) {
            return new Response(errorCode.httpStatus(), new Headers()
                    .set("Content-Type", "text/plain; charset=utf-8")
                    .set(CODE_HEADER, Integer.toString(errorCode.code())),
                    Body.of(Envelope.message(errorCode, detail)), errorCode.code());
        }

        @Override
        public Response answer(dev.modelgate.spi.inference.Payload payload) {
            return new Response(200, new Headers(payload.headers()).set("Content-Type", payload.contentType()),
                    Body.of(payload.body()), 0);
        }

        /** A backend answer of the body dialect: its failures as the gateway's codes, with the backend's message. */
        @Override
        public Response passThrough(Response backendAnswer, Exchange exchange) {
            int status = backendAnswer.status();
            if (status < 400) {
                return backendAnswer;
            }
            return error(CoreErrors.ofBackendStatus(status),
                    BackendErrorText.detail(status, backendAnswer.body().bytes(), exchange, LOG));
        }

        /** Readiness is the status alone (200 or 503); metadata is the body dialect's metadata message. */
        @Override
        public Response describe(FrontCall call, Route route, Exchange exchange, Codecs codecs,
                MetricsRegistry metrics) {
            if (call.verb().equals("ready")) {
                return new Response(route.backend().ready() ? 200 : 503, new Headers(), Body.EMPTY, 0);
            }
            return ModelApi.withMetadata(call, route, exchange,
                    metadata -> ModelApi.encodeMetadata(this, codecs, exchange, metadata));
        }

        /** Liveness and the server's metadata always answer 200; readiness 503 while a backend is not ready. */
        @Override
        public Response serveServer(FrontCall call, Deployment deployment, Exchange exchange) {
            boolean ready = !call.verb().equals("ready")
                    || deployment.backends().values().stream().allMatch(backend -> backend.ready());
            return new Response(ready ? 200 : 503, new Headers(), Body.EMPTY, 0);
        }
    }

    /** Starts every front; on a failure closes those started and rethrows. */
    static void startAll(List<ListenerFront> fronts, Pipeline pipeline) throws java.io.IOException {
        List<ListenerFront> started = new ArrayList<>();
        try {
            for (ListenerFront front : fronts) {
                front.start(pipeline);
                started.add(front);
            }
        } catch (java.io.IOException | RuntimeException e) {
            started.forEach(ListenerFront::close);
            throw e;
        }
    }
}
