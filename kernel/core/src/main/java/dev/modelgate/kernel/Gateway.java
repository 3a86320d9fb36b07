package dev.modelgate.kernel;

import dev.modelgate.kernel.upstream.IoUpstreamHttp;
import dev.modelgate.spi.front.ListenerFront;
import io.undertow.Undertow;
import io.undertow.UndertowOptions;
import io.undertow.server.handlers.HttpContinueReadHandler;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import org.xnio.Xnio;
import org.xnio.XnioWorker;

/**
 * A running gateway: the API and admin listeners, and the listeners of the plugins' fronts (gRPC), over the
 * {@link Deployment} being served, which a reload ({@link Reloader}) replaces while the listeners keep running.
 *
 * <p>Every request runs on its own virtual thread; Undertow's IO threads only accept, parse and hand off.
 * {@link #shutdown()} refuses new requests, lets in-flight ones finish up to the configured deadline, then closes
 * the listeners and every plugin.
 */
public final class Gateway implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(Gateway.class.getName());

    private final LiveDeployment deployment;
    private final MetricsRegistry metrics;
    private final Undertow undertow;
    private final XnioWorker worker;
    private final ApiHandler api;
    /** Started once the worker runs, on its IO threads. */
    private ApiListener apiListener;
    /** Set once the API listener runs, whose certificate a reload may rotate. */
    private volatile Reloader reloader;
    /** Reloads on changes of the configuration file and the plugins folder, with {@code --watch}; else null. */
    private ConfigWatcher watcher;
    private final InFlightRequests inFlight = new InFlightRequests();
    private final ExecutorService requestExecutor;
    private final AtomicBoolean stopped = new AtomicBoolean();
    private volatile boolean ready;

    private Gateway(Deployment deployment, MetricsRegistry metrics) {
        this.deployment = new LiveDeployment(deployment, metrics);
        this.metrics = metrics;
        this.requestExecutor = Executors.newThreadPerTaskExecutor(
                Thread.ofVirtual().name("modelgate-request-", 0).factory());
        ServerSettings server = deployment.server();
        this.api = new ApiHandler(this.deployment, metrics, requestExecutor, inFlight);
        this.worker = worker(server.ioThreads(), requestExecutor);
        metrics.inFlightGauge(inFlight::count);
        // The builder serves the admin listener; ApiListener assembles the API listener on the same worker.
        this.undertow = Undertow.builder()
                .setWorker(worker)
                .setServerOption(UndertowOptions.ALWAYS_SET_DATE, true)
                .setServerOption(UndertowOptions.REQUEST_PARSE_TIMEOUT, ApiListener.millis(server.headerTimeout()))
                .setServerOption(UndertowOptions.NO_REQUEST_TIMEOUT, ApiListener.millis(server.idleTimeout()))
                .setServerOption(UndertowOptions.IDLE_TIMEOUT, ApiListener.millis(server.idleTimeout()))
                .addListener(new Undertow.ListenerBuilder().setType(Undertow.ListenerType.HTTP)
                        .setHost(server.adminAddress()).setPort(server.adminPort())
                        .setRootHandler(new AdminHandler(this.deployment::current, () -> reload("POST /reload"),
                                metrics, () -> ready, requestExecutor)))
                .build();
    }

    /**
     * The IO threads, with {@code tasks} for the few tasks Undertow hands to workers (TLS handshakes): request work
     * runs on virtual threads anyway. Given an executor of its own, XNIO never sets up the JBoss threads pool, whose
     * class initialisation calls {@code sun.misc.Unsafe} and makes Java 24 and later warn on every start.
     */
    private static XnioWorker worker(int ioThreads, ExecutorService tasks) {
        return Xnio.getInstance(Undertow.class.getClassLoader()).createWorkerBuilder()
                .setWorkerName("modelgate")
                .setWorkerIoThreads(ioThreads)
                .setExternalExecutorService(tasks)
                .build();
    }

    /** The admin listener speaks plain HTTP: off loopback, its token would cross the network in clear. */
    private static void warnOnExposedAdmin(ServerSettings server) {
        try {
            if (!java.net.InetAddress.getByName(server.adminAddress()).isLoopbackAddress()) {
                LOG.log(System.Logger.Level.WARNING, "the admin listener on " + server.adminAddress()
                        + " is plain HTTP off loopback: admin credentials cross the network unencrypted");
            }
        } catch (java.net.UnknownHostException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot resolve admin-address " + server.adminAddress());
        }
    }

    /**
     * Discovers plugins, builds the configuration and starts listening.
     *
     * @throws Deployment.InvalidConfigException when the configuration has problems
     */
    public static Gateway start(CommandLine commandLine, Map<String, String> environment) throws Exception {
        ConfigSource source = ConfigSource.load(commandLine.effectiveConfigFile(), environment);
        PluginRegistry plugins = commandLine.discoverPlugins();
        try {
            ErrorCatalog.of(plugins);
            MetricsRegistry metrics = new MetricsRegistry();
            // Backends are built before the IO threads, whose count the configuration gives: their pools connect at
            // their first call, on the IO threads attached here once they run.
            IoUpstreamHttp upstream = new IoUpstreamHttp();
            Deployment deployment = Deployment.build(source, plugins, metrics, commandLine, Clock.systemUTC(),
                    upstream);
            Gateway gateway;
            try {
                gateway = new Gateway(deployment, metrics);
                upstream.attach(gateway.worker);
            } catch (RuntimeException e) {
                deployment.close();
                throw e;
            }
            try {
                gateway.undertow.start();
                // Clients that send Expect: 100-continue (curl past 1 MB, several SDKs) get it when the body is read.
                gateway.apiListener = ApiListener.start(gateway.worker, deployment.server(),
                        new HttpContinueReadHandler(gateway.api), gateway.deployment::current);
                gateway.reloader = new Reloader(commandLine, environment, gateway.deployment, metrics,
                        gateway.apiListener, upstream);
            } catch (IOException | RuntimeException e) {
                gateway.stopAfterFailedStart();
                throw listenFailure(e, deployment.server());
            }
            try {
                gateway.startListenerFronts();
                if (commandLine.watch()) {
                    gateway.watcher = ConfigWatcher.start(commandLine, () -> gateway.reload("--watch"));
                }
            } catch (IOException | RuntimeException e) {
                gateway.stopAfterFailedStart();
                throw e;
            }
            gateway.ready = true;
            warnOnExposedAdmin(deployment.server());
            LOG.log(System.Logger.Level.INFO, "serving " + source.origin() + " on port " + gateway.port()
                    + ", admin on " + deployment.server().adminAddress() + ":" + gateway.adminPort()
                    + (gateway.grpcPort() > 0 ? ", gRPC on port " + gateway.grpcPort() : ""));
            return gateway;
        } catch (Exception | Error e) {
            plugins.close();
            throw e;
        }
    }

    /** Starts the plugins' fronts (the gRPC listener), after the API listener. */
    private void startListenerFronts() throws IOException {
        ListenerFronts.startAll(deployment.current().listenerFronts(),
                new ListenerFronts.RealPipeline(deployment, metrics, () -> ready));
    }

    /**
     * Builds a deployment from the configuration file and the plugins folder as they are now and serves it, or
     * changes nothing and says why; {@code trigger} names who asked (SIGHUP, POST /reload, --watch).
     */
    public Reloader.Outcome reload(String trigger) {
        Reloader started = reloader;
        return started != null ? started.reload(trigger)
                : new Reloader.Outcome(false, List.of("the gateway is still starting"), List.of(), 0, 0);
    }

    /** The gRPC front's port, 0 when it is off. */
    public int grpcPort() {
        List<ListenerFront> fronts = deployment.current().listenerFronts();
        return fronts.isEmpty() ? 0 : fronts.getFirst().port();
    }

    /** Releases what a start that failed midway opened (a listener already bound among them), so its port is free. */
    private void stopAfterFailedStart() {
        if (watcher != null) {
            watcher.close();
        }
        if (apiListener != null) {
            apiListener.stopAccepting();
            apiListener.closeConnections();
        }
        undertow.stop();
        stopWorker();
        requestExecutor.shutdownNow();
        deployment.current().close();
    }

    /** Ends the IO threads, which Undertow leaves to whoever gave them. */
    private void stopWorker() {
        worker.shutdown();
        try {
            worker.awaitTermination(5, java.util.concurrent.TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * A failed start as the operator needs to read it: for an address in use, which listener and which port (found by
     * trying each again, as the exception names neither).
     */
    private static Exception listenFailure(Exception failure, ServerSettings server) {
        Throwable cause = failure;
        while (cause != null && !(cause instanceof java.net.BindException)) {
            cause = cause.getCause();
        }
        if (cause == null) {
            return failure;
        }
        // What the failed start bound is closed again, so a listener that cannot bind now is one another process holds.
        String busy = !canBind(server.address(), server.port())
                ? "the API listener on " + server.address() + ":" + server.port() + " (server.port, --port)"
                : !canBind(server.adminAddress(), server.adminPort())
                ? "the admin listener on " + server.adminAddress() + ":" + server.adminPort()
                        + " (server.admin-port, --admin-port)"
                : "the API listener on " + server.address() + ":" + server.port() + " or the admin listener on "
                        + server.adminAddress() + ":" + server.adminPort();
        return new IllegalStateException("cannot start " + busy + ": " + cause.getMessage(), failure);
    }

    private static boolean canBind(String address, int port) {
        if (port == 0) {
            return true;
        }
        try (java.net.ServerSocket socket = new java.net.ServerSocket()) {
            socket.bind(new InetSocketAddress(address, port));
            return true;
        } catch (java.io.IOException e) {
            return false;
        }
    }

    public int port() {
        return apiListener.port();
    }

    public int adminPort() {
        return ((InetSocketAddress) undertow.getListenerInfo().get(0).getAddress()).getPort();
    }

    /** Drains and stops with the configured shutdown timeout. */
    public void shutdown() {
        shutdown(deployment.current().server().shutdownTimeout());
    }

    /**
     * Drains (see {@link Drain}: readiness down, new requests answered 503 with code 30001 and
     * {@code Connection: close}, the API listener closed after {@code server.drain-delay}; a GOAWAY on the gRPC
     * listener at once), gives in-flight requests, calls and streams up to {@code deadline}, then closes the listeners
     * (ending gRPC calls still open with UNAVAILABLE) and every plugin. Idempotent.
     *
     * @return {@code true} when every in-flight request finished before the deadline
     */
    public boolean shutdown(Duration deadline) {
        if (!stopped.compareAndSet(false, true)) {
            return true;
        }
        ready = false;
        if (watcher != null) {
            watcher.close();
        }
        if (reloader != null) {
            reloader.stop();
        }
        long end = System.nanoTime() + deadline.toNanos();
        List<ListenerFront> fronts = deployment.current().listenerFronts();
        fronts.forEach(ListenerFront::stopAccepting);
        boolean drained = new Drain(inFlight, apiListener).run(deployment.current().server().drainDelay(),
                deadline);
        try {
            for (ListenerFront front : fronts) {
                drained &= front.awaitIdle(Duration.ofNanos(Math.max(0, end - System.nanoTime())));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            drained = false;
        }
        fronts.forEach(ListenerFront::close);
        undertow.stop();
        stopWorker();
        requestExecutor.shutdownNow();
        try {
            // Requests cut off at the deadline get a moment to notice before their plugins close under them.
            requestExecutor.awaitTermination(1, java.util.concurrent.TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        deployment.closeAll();
        return drained;
    }

    @Override
    public void close() {
        shutdown();
    }
}
