package dev.modelgate.kernel;

import io.undertow.Undertow;
import io.undertow.UndertowOptions;
import io.undertow.server.handlers.HttpContinueReadHandler;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A running gateway: the API and admin listeners over one {@link Deployment}.
 *
 * <p>Every request runs on its own virtual thread; Undertow's IO threads only accept, parse and hand off.
 * {@link #shutdown()} refuses new requests, lets in-flight ones finish up to the configured deadline, then closes
 * the listeners and every plugin.
 */
public final class Gateway implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(Gateway.class.getName());

    private final AtomicReference<Deployment> deployment;
    private final PluginRegistry plugins;
    private final Undertow undertow;
    private final ApiHandler api;
    /** Started once Undertow's worker runs, since it shares its IO threads. */
    private ApiListener apiListener;
    private final InFlightRequests inFlight = new InFlightRequests();
    private final ExecutorService requestExecutor;
    private final AtomicBoolean stopped = new AtomicBoolean();
    private volatile boolean ready;

    private Gateway(Deployment deployment, PluginRegistry plugins, MetricsRegistry metrics) {
        this.deployment = new AtomicReference<>(deployment);
        this.plugins = plugins;
        this.requestExecutor = Executors.newThreadPerTaskExecutor(
                Thread.ofVirtual().name("modelgate-request-", 0).factory());
        ServerSettings server = deployment.server();
        this.api = new ApiHandler(this.deployment::get, metrics, requestExecutor, inFlight);
        // The builder serves the admin listener; ApiListener assembles the API listener on the same worker.
        this.undertow = Undertow.builder()
                .setIoThreads(server.ioThreads())
                // Request work runs on virtual threads; Undertow's workers only run TLS handshake tasks.
                .setWorkerThreads(server.ioThreads())
                .setServerOption(UndertowOptions.ALWAYS_SET_DATE, true)
                .setServerOption(UndertowOptions.REQUEST_PARSE_TIMEOUT, ApiListener.millis(server.headerTimeout()))
                .setServerOption(UndertowOptions.NO_REQUEST_TIMEOUT, ApiListener.millis(server.idleTimeout()))
                .setServerOption(UndertowOptions.IDLE_TIMEOUT, ApiListener.millis(server.idleTimeout()))
                .addListener(new Undertow.ListenerBuilder().setType(Undertow.ListenerType.HTTP)
                        .setHost(server.adminAddress()).setPort(server.adminPort())
                        .setRootHandler(new AdminHandler(this.deployment::get, plugins, metrics, () -> ready,
                                requestExecutor)))
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
        PluginRegistry plugins = PluginRegistry.discover(commandLine.pluginsDir());
        try {
            ErrorCatalog.of(plugins);
            MetricsRegistry metrics = new MetricsRegistry();
            Deployment deployment = Deployment.build(source, plugins, metrics, commandLine, Clock.systemUTC());
            Gateway gateway;
            try {
                gateway = new Gateway(deployment, plugins, metrics);
                gateway.undertow.start();
            } catch (RuntimeException e) {
                deployment.close();
                throw e;
            }
            try {
                // Clients that send Expect: 100-continue (curl past 1 MB, several SDKs) get it when the body is read.
                gateway.apiListener = ApiListener.start(gateway.undertow.getWorker(), deployment.server(),
                        new HttpContinueReadHandler(gateway.api), gateway.deployment::get);
            } catch (java.io.IOException | RuntimeException e) {
                gateway.undertow.stop();
                deployment.close();
                throw e;
            }
            gateway.ready = true;
            warnOnExposedAdmin(deployment.server());
            LOG.log(System.Logger.Level.INFO, "serving " + source.origin() + " on port " + gateway.port()
                    + ", admin on " + deployment.server().adminAddress() + ":" + gateway.adminPort());
            return gateway;
        } catch (Exception | Error e) {
            plugins.close();
            throw e;
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
        shutdown(deployment.get().server().shutdownTimeout());
    }

    /**
     * Drains (see {@link Drain}: readiness down, new requests answered 503 with code 30001 and
     * {@code Connection: close}, the listener closed after {@code server.drain-delay}, in-flight requests given up to
     * {@code deadline}), then closes the listeners and every plugin. Idempotent.
     *
     * @return {@code true} when every in-flight request finished before the deadline
     */
    public boolean shutdown(Duration deadline) {
        if (!stopped.compareAndSet(false, true)) {
            return true;
        }
        ready = false;
        boolean drained = new Drain(inFlight, apiListener).run(deployment.get().server().drainDelay(), deadline);
        undertow.stop();
        requestExecutor.shutdownNow();
        try {
            // Requests cut off at the deadline get a moment to notice before their plugins close under them.
            requestExecutor.awaitTermination(1, java.util.concurrent.TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        deployment.get().close();
        try {
            plugins.close();
        } catch (Exception e) {
            LOG.log(System.Logger.Level.WARNING, "closing plugin class loaders failed", e);
        }
        return drained;
    }

    @Override
    public void close() {
        shutdown();
    }
}
