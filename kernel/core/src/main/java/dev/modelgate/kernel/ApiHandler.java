package dev.modelgate.kernel;

import dev.modelgate.spi.CoreErrors;
import dev.modelgate.spi.Response;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.Headers;
import java.util.concurrent.Executor;

/**
 * The API listener's root handler. Undertow I/O stays on the IO threads: the body is read there without blocking,
 * the pipeline then runs on a virtual thread, and the response goes back to the IO thread to be written. (Finishing
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
     * Runs on an IO thread: admits the request, reads its body, hands it to a virtual thread. The request holds a
     * lease on the deployment it started on until its answer is complete, a streamed one's last byte included.
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
            http.dispatch(requestExecutor, () -> serveSafely(http, current, UNREAD, refusal, start));
            return;
        }
        RequestBody.read(http, current.server().maxBodyBytes(), current.server().bodyTimeout(),
                body -> http.dispatch(requestExecutor, () -> serveSafely(http, current, body, null, start)));
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
            if (e instanceof VirtualMachineError && !(e instanceof StackOverflowError)) {
                throw e;
            }
            LOG.log(System.Logger.Level.ERROR, "serving " + http.getRequestMethod() + " " + http.getRequestPath()
                    + " failed", e);
            ResponseWriter.write(http, current.fronts().frontOf(http.getRequestPath()).error(CoreErrors.INTERNAL, null),
                    Long.MAX_VALUE);
        }
    }

    /**
     * Runs on the request's virtual thread. A request that failed {@link RequestChecks} is not routed: it passes the
     * global middlewares and ends in its {@code refusal}.
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
        Response response = Dispatcher.run(current, metrics, PROTOCOL, transport, transport.passableHeaders(), call,
                front, target, deadline, body, start);
        if (inFlight.isDraining() || closesConnection(response)) {
            http.setPersistent(false);
            Http2GoAway.afterAnswer(http);
        }
        ResponseWriter.write(http, response, current.server().gzipMinBytes());
    }

    /** A refused limit ends the connection: the client may still be sending what was refused. */
    private static boolean closesConnection(Response response) {
        int code = response.code();
        return code == CoreErrors.BODY_TOO_LARGE.code() || code == CoreErrors.INFLATED_BODY_TOO_LARGE.code()
                || code == CoreErrors.BODY_TIMEOUT.code();
    }
}
