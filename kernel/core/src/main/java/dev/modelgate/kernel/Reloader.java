package dev.modelgate.kernel;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.modelgate.spi.CoreErrors;
import dev.modelgate.spi.Json;
import dev.modelgate.spi.Metrics;
import dev.modelgate.spi.upstream.UpstreamHttp;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;

/**
 * Hot reload: reads the configuration file and the plugins folder again, builds a whole new {@link Deployment}
 * from them (carrying over the parts whose configuration did not change), and serves it from the next request on.
 * A reload that does not build changes nothing and says why, with key paths. SIGHUP, {@code POST /reload} on the
 * admin listener and {@code --watch} all come here; reloads run one at a time.
 */
public final class Reloader {

    private static final System.Logger LOG = System.getLogger(Reloader.class.getName());

    /**
     * The settings a running listener was opened with (its address, port, threads and Undertow options): a reload
     * cannot change them, and reports their change as needing a restart.
     */
    private static final Map<String, Function<ServerSettings, Object>> FIXED_SETTINGS = fixedSettings();
    /** What the running gRPC listener took from {@code server} when it started. */
    private static final Map<String, Function<ServerSettings, Object>> GRPC_LISTENER_SETTINGS = Map.of(
            "server.max-body-size", ServerSettings::maxBodyBytes,
            "server.shutdown-timeout", ServerSettings::shutdownTimeout);

    private final CommandLine commandLine;
    private final Map<String, String> environment;
    private final LiveDeployment live;
    private final MetricsRegistry metrics;
    private final ApiListener apiListener;
    /** The gateway's upstream pools, on its IO threads, for the backends of new deployments. */
    private final UpstreamHttp upstream;
    private final ReentrantLock oneAtATime = new ReentrantLock();
    private final Metrics.Counter succeeded;
    private final Metrics.Counter failed;
    private volatile double lastSuccessSeconds;
    private byte[] servedTlsFiles;
    /** Set at shutdown, under the lock: no reload swaps a deployment in once the gateway stops. */
    private boolean stopped;

    Reloader(CommandLine commandLine, Map<String, String> environment, LiveDeployment live, MetricsRegistry metrics,
            ApiListener apiListener, UpstreamHttp upstream) {
        this.commandLine = commandLine;
        this.upstream = upstream;
        this.environment = environment;
        this.live = live;
        this.metrics = metrics;
        this.apiListener = apiListener;
        String help = "Reloads asked for (SIGHUP, POST /reload, --watch), by result: success or failure (nothing "
                + "changed).";
        this.succeeded = metrics.counter("modelgate_reloads_total", help, Map.of("result", "success"));
        this.failed = metrics.counter("modelgate_reloads_total", help, Map.of("result", "failure"));
        this.lastSuccessSeconds = Clock.systemUTC().millis() / 1000.0;
        metrics.gauge("modelgate_reload_last_success_timestamp_seconds", "When the configuration being served was "
                + "loaded, in seconds since the epoch: at start, then at each successful reload.", Map.of(),
                () -> lastSuccessSeconds);
        this.servedTlsFiles = tlsFiles(live.current().server());
    }

    private static Map<String, Function<ServerSettings, Object>> fixedSettings() {
        Map<String, Function<ServerSettings, Object>> fixed = new LinkedHashMap<>();
        fixed.put("server.address", ServerSettings::address);
        fixed.put("server.port", ServerSettings::port);
        fixed.put("server.admin-address", ServerSettings::adminAddress);
        fixed.put("server.admin-port", ServerSettings::adminPort);
        fixed.put("server.grpc-port", ServerSettings::grpcPort);
        fixed.put("server.io-threads", ServerSettings::ioThreads);
        fixed.put("server.header-timeout", ServerSettings::headerTimeout);
        fixed.put("server.idle-timeout", ServerSettings::idleTimeout);
        fixed.put("server.http2-max-concurrent-streams", ServerSettings::http2MaxConcurrentStreams);
        fixed.put("server.max-header-size", ServerSettings::maxHeaderBytes);
        fixed.put("server.max-header-count", ServerSettings::maxHeaderCount);
        fixed.put("server.max-uri-length", ServerSettings::maxUriBytes);
        fixed.put("server.tls", server -> server.tls() != null);
        return fixed;
    }

    /**
     * What a reload did.
     *
     * @param applied whether the new configuration is being served
     * @param problems why it was refused, each with its key path (empty when applied)
     * @param restartNeeded the keys whose change the running listeners cannot take
     * @param built how many plugin instances were built anew
     * @param carried how many were carried over, state and all
     */
    public record Outcome(boolean applied, List<String> problems, List<String> restartNeeded, int built, int carried) {

        /** The admin listener's answer: 200 with what changed, or 422 (code 90101) with the problems. */
        byte[] json() {
            ObjectNode data = Json.MAPPER.createObjectNode();
            data.put("reloaded", applied);
            problems.forEach(data.withArray("problems")::add);
            restartNeeded.forEach(data.withArray("restart_needed")::add);
            data.put("built", built).put("carried_over", carried);
            if (applied) {
                return Envelope.success(data);
            }
            ObjectNode body = Json.MAPPER.createObjectNode().put("code", CoreErrors.RELOAD_REFUSED.code())
                    .put("message", CoreErrors.RELOAD_REFUSED.summary());
            body.set("data", data);
            return body.toString().getBytes(StandardCharsets.UTF_8);
        }
    }

    /** Reloads now (after a reload already running); {@code trigger} names who asked, for the log. */
    Outcome reload(String trigger) {
        oneAtATime.lock();
        try {
            if (stopped) {
                return refused(List.of("the gateway is stopping"));
            }
            Outcome outcome = tryReload();
            if (outcome.applied()) {
                succeeded.increment();
                lastSuccessSeconds = Clock.systemUTC().millis() / 1000.0;
                LOG.log(System.Logger.Level.INFO, "reloaded (" + trigger + "): " + outcome.built() + " parts built, "
                        + outcome.carried() + " carried over" + (outcome.restartNeeded().isEmpty() ? ""
                        : "; these changes need a restart and are not applied: "
                        + String.join(", ", outcome.restartNeeded())));
            } else {
                failed.increment();
                LOG.log(System.Logger.Level.WARNING, "reload (" + trigger + ") refused, the running configuration "
                        + "keeps serving:\n  " + String.join("\n  ", outcome.problems()));
            }
            return outcome;
        } finally {
            oneAtATime.unlock();
        }
    }

    /** Refuses every reload from now on, after waiting for one that is running. */
    void stop() {
        oneAtATime.lock();
        try {
            stopped = true;
        } finally {
            oneAtATime.unlock();
        }
    }

    private Outcome tryReload() {
        Deployment served = live.current();
        PluginRegistry plugins;
        ConfigSource source;
        try {
            source = ConfigSource.load(commandLine.effectiveConfigFile(), environment);
            plugins = PluginRegistry.discover(commandLine.pluginsDir(), commandLine.pluginsDirGiven(),
                    served.plugins());
        } catch (java.io.IOException | RuntimeException e) {
            return refused(List.of(describe(e)));
        }
        Deployment next;
        try {
            ErrorCatalog.of(plugins);
            next = Deployment.build(source, plugins, metrics, commandLine, Clock.systemUTC(), null, served,
                    upstream);
        } catch (Deployment.InvalidConfigException e) {
            closeNewJars(plugins, served);
            return refused(e.problems());
        } catch (RuntimeException e) {
            closeNewJars(plugins, served);
            return refused(List.of(describe(e)));
        }
        List<String> restartNeeded = restartNeeded(served, next);
        javax.net.ssl.X509ExtendedKeyManager tlsKeys = null;
        javax.net.ssl.SSLContext tls = null;
        if (next.server().tls() != null && served.server().tls() != null) {
            try {
                tlsKeys = TlsContexts.keyManager(next.server().tls());
                tls = TlsContexts.create(tlsKeys);
            } catch (java.io.IOException | java.security.GeneralSecurityException e) {
                live.discard(next);
                return refused(List.of("server.tls: " + e.getMessage()));
            }
        }
        int carried = (int) next.parts().stream().filter(served.parts()::contains).count();
        live.swap(next);
        if (tls != null) {
            rotateTls(next, tlsKeys, tls, restartNeeded);
        }
        return new Outcome(true, List.of(), restartNeeded, next.parts().size() - carried, carried);
    }

    /**
     * New handshakes on the API listener and on the listener fronts present the certificate just read; a front that
     * cannot take it has {@code server.tls} reported as needing a restart, when the files changed.
     */
    private void rotateTls(Deployment next, javax.net.ssl.X509ExtendedKeyManager keys, javax.net.ssl.SSLContext tls,
            List<String> restartNeeded) {
        apiListener.updateTls(tls);
        byte[] files = tlsFiles(next.server());
        boolean changed = !java.util.Arrays.equals(files, servedTlsFiles);
        servedTlsFiles = files;
        for (dev.modelgate.spi.front.ListenerFront front : next.listenerFronts()) {
            if (!front.rotateTls(keys) && changed) {
                restartNeeded.add("server.tls (a listener front that cannot rotate its certificate: "
                        + front.getClass().getSimpleName() + ")");
            }
        }
    }

    private static Outcome refused(List<String> problems) {
        return new Outcome(false, problems, List.of(), 0, 0);
    }

    private static String describe(Exception e) {
        return e instanceof java.nio.file.NoSuchFileException ? "no such file: " + e.getMessage() : e.getMessage();
    }

    /** Closes the class loaders that discovery opened for a reload that is then refused. */
    private static void closeNewJars(PluginRegistry plugins, Deployment served) {
        for (PluginRegistry.JarLoader loader : plugins.jarLoaders()) {
            if (!served.plugins().jarLoaders().contains(loader)) {
                try {
                    loader.close();
                } catch (java.io.IOException e) {
                    LOG.log(System.Logger.Level.DEBUG, "closing " + loader.jar() + " failed", e);
                }
            }
        }
    }

    /** The keys whose new values the running listeners cannot take. */
    private static List<String> restartNeeded(Deployment served, Deployment next) {
        List<String> keys = new ArrayList<>(next.restartNeeded());
        FIXED_SETTINGS.forEach((key, setting) -> {
            if (!setting.apply(served.server()).equals(setting.apply(next.server()))) {
                keys.add(key);
            }
        });
        if (!next.listenerFronts().isEmpty()) {
            GRPC_LISTENER_SETTINGS.forEach((key, setting) -> {
                if (!setting.apply(served.server()).equals(setting.apply(next.server()))) {
                    keys.add(key + " (for the gRPC listener)");
                }
            });
        }
        return keys;
    }

    /** The certificate and key files as they are now, to tell whether they changed; empty without TLS. */
    private static byte[] tlsFiles(ServerSettings server) {
        if (server.tls() == null) {
            return new byte[0];
        }
        try {
            java.io.ByteArrayOutputStream both = new java.io.ByteArrayOutputStream();
            both.write(java.nio.file.Files.readAllBytes(server.tls().certFile()));
            both.write(java.nio.file.Files.readAllBytes(server.tls().keyFile()));
            return both.toByteArray();
        } catch (java.io.IOException e) {
            return new byte[0];
        }
    }
}
