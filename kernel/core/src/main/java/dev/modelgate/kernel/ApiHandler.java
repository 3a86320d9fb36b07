package dev.modelgate.kernel;

import dev.modelgate.spi.CoreErrors;
import dev.modelgate.spi.PushBody;
import dev.modelgate.spi.Response;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.Headers;
import io.undertow.util.SameThreadExecutor;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.function.Supplier;

/**
 * The API listener's root handler. Undertow I/O stays on the IO threads: the body is read there without blocking,
 * the request routed, and its pipeline run there too when nothing in it blocks (a proxied predict through phased
 * middlewares: no hand-off at all, as nginx serves it); any other pipeline runs on a virtual thread, and the response
 * goes back to the IO thread to be written. (Finishing
 * an exchange off the IO thread makes Undertow's read listener spin until it may resume reading, and its buffer pool
 * caches buffers per thread, which a new virtual thread per request never hits.) The {@link Dispatcher} routes and
 * runs it.
 */
final class ApiHandler implements HttpHandler {

    private static final System.Logger LOG = System.getLogger(ApiHandler.class.getName());
    /** How metrics label the API listener's requests. */
    static final String PROTOCOL = "http";
    private static final RequestBody UNREAD = new RequestBody(new byte[0], null);

    private final LiveDeployment deployment;
    private final MetricsRegistry metrics;
    private final Executor requestExecutor;
    private final InFlightRequests inFlight;

    ApiHandler(LiveDeployment deployment, MetricsRegistry metrics, Executor requestExecutor,
            InFlightRequests inFlight) {
        this.deployment = deployment;
        this.metrics = metrics;
        this.requestExecutor = requestExecutor;
        this.inFlight = inFlight;
    }

    /**
     * Runs on an IO thread: admits the request, reads its body, routes it. The request holds a lease on the
     * deployment it started on until its answer is complete, a streamed one's last byte included.
     */
    @Override
    public void handleRequest(HttpServerExchange http) {
        long start = System.nanoTime();
        boolean admitted = inFlight.enter();
        Deployment current = admitted ? deployment.acquire() : null;
        http.addExchangeCompleteListener((exchange, next) -> {
            if (current != null) {
                deployment.release(current);
            }
            inFlight.exit();
            next.proceed();
        });
        if (!admitted) {
            refuseWhileDraining(http);
            return;
        }
        Refusal refusal = RequestChecks.refusal(http);
        if (refusal != null) {
            // Not worth reading the body of, but still logged and authenticated like any request.
            serveSafely(http, current, UNREAD, refusal, start);
            return;
        }
        RequestBody.read(http, current.server().maxBodyBytes(), current.server().bodyTimeout(),
                body -> serveSafely(http, current, body, null, start));
    }

    /**
     * Answers 503 (30001) and closes, after reading the body: closing on unread bytes would reset the connection
     * and could destroy the answer on its way.
     */
    private void refuseWhileDraining(HttpServerExchange http) {
        http.setPersistent(false);
        ServerSettings server = deployment.current().server();
        Http2GoAway.afterAnswer(http);
        RequestBody.read(http, server.maxBodyBytes(), server.bodyTimeout(), body -> ResponseWriter.write(http,
                deployment.current().fronts().frontOf(http.getRequestPath())
                        .error(CoreErrors.SHUTTING_DOWN, "retry on another instance"), Long.MAX_VALUE));
    }

    /** {@link #serve}, with the guarantee that the exchange ends: a kernel bug must not leave a client hanging. */
    private void serveSafely(HttpServerExchange http, Deployment current, RequestBody body, Refusal refusal,
            long start) {
        try {
            serve(http, current, body, refusal, start);
        } catch (Throwable e) {
            failed(http, current, e);
        }
    }

    private static void failed(HttpServerExchange http, Deployment current, Throwable e) {
        if (e instanceof VirtualMachineError && !(e instanceof StackOverflowError)) {
            throw (VirtualMachineError) e;
        }
        LOG.log(System.Logger.Level.ERROR, "serving " + http.getRequestMethod() + " " + http.getRequestPath()
                + " failed", e);
        ResponseWriter.write(http, current.fronts().frontOf(http.getRequestPath()).error(CoreErrors.INTERNAL, null),
                Long.MAX_VALUE);
    }

    /**
     * Runs on the IO thread, within Undertow's call of the root handler: routes the request, then runs its pipeline
     * on this thread when nothing in it blocks (see {@link Dispatcher#runWithoutBlocking}), else on a virtual thread.
     * A request that failed {@link RequestChecks} is not routed: it passes the global middlewares and ends in its
     * {@code refusal}.
     */
    private void serve(HttpServerExchange http, Deployment current, RequestBody body, Refusal refusal, long start) {
        String method = http.getRequestMethod().toString();
        String path = http.getRequestPath();
        Fronts fronts = current.fronts();
        FrontCall call = refusal == null ? fronts.match(method, path, http.getRequestHeaders().getFirst(Headers.ACCEPT))
                : null;
        Front front = call != null ? call.front() : fronts.frontOf(path);
        Dispatcher.Target target = Dispatcher.target(current, metrics, call, front, method, path, refusal);
        UndertowTransport transport = new UndertowTransport(http);
        Deadline deadline = Deadline.of(start, target.timeout(), http.getRequestHeaders().getFirst(Deadline.HEADER));
        RealExchange exchange = Dispatcher.exchange(current, transport, transport.passableHeaders(), call, front,
                target, deadline, body, start);
        CompletionStage<Response> answer = Dispatcher.runWithoutBlocking(metrics, PROTOCOL, exchange, target,
                deadline, requestExecutor);
        if (answer != null) {
            // Undertow ends an exchange its handler returns from unless it was dispatched: the answer comes later.
            http.dispatch(SameThreadExecutor.INSTANCE, () -> answer.whenComplete((response, failure) ->
                    finishSafely(http, current, () -> response)));
            return;
        }
        http.dispatch(requestExecutor, () -> finishSafely(http, current,
                () -> Dispatcher.run(current, metrics, PROTOCOL, exchange, target, deadline)));
    }

    /** {@link #finish} with the answer {@code pipeline} gives, ending the exchange whatever fails. */
    private void finishSafely(HttpServerExchange http, Deployment current, Supplier<Response> pipeline) {
        try {
            finish(http, current, pipeline.get());
        } catch (Throwable e) {
            failed(http, current, e);
        }
    }

    /**
     * Writes the answer: a buffered or pushed one on the IO thread, any other streamed one on a virtual thread, since
     * writing it blocks on the backend and the client.
     */
    private void finish(HttpServerExchange http, Deployment current, Response response) {
        if (inFlight.isDraining() || closesConnection(response)) {
            http.setPersistent(false);
            Http2GoAway.afterAnswer(http);
        }
        if (response.body().length() < 0 && !(response.body() instanceof PushBody) && http.isInIoThread()) {
            requestExecutor.execute(() -> ResponseWriter.write(http, response, current.server().gzipMinBytes()));
        } else {
            ResponseWriter.write(http, response, current.server().gzipMinBytes());
        }
    }

    /** A refused limit ends the connection: the client may still be sending what was refused. */
    private static boolean closesConnection(Response response) {
        int code = response.code();
        return code == CoreErrors.BODY_TOO_LARGE.code() || code == CoreErrors.INFLATED_BODY_TOO_LARGE.code()
                || code == CoreErrors.BODY_TIMEOUT.code();
    }
}
