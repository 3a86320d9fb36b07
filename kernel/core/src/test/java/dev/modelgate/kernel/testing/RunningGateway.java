package dev.modelgate.kernel.testing;

import dev.modelgate.kernel.CommandLine;
import dev.modelgate.kernel.Gateway;
import dev.modelgate.kernel.Reloader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

/**
 * A real gateway for tests: started from a YAML string on free ports (its client talks to 127.0.0.1; set
 * {@code server.address: 127.0.0.1} to listen on loopback only), with a real HTTP client.
 * Close it to shut the gateway down.
 */
public final class RunningGateway implements AutoCloseable {

    /** The smallest useful configuration tail: model {@code m} served by the test backend {@code echo}. */
    public static final String ECHO_ROUTE = """
            backends:
              echo:
                type: echo
            routes:
              - model: m
                backend: echo
            """;

    private static final HttpClient CLIENT = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5))
            .build();

    private final Gateway gateway;
    private final Path configFile;

    private RunningGateway(Gateway gateway, Path configFile) {
        this.gateway = gateway;
        this.configFile = configFile;
    }

    /** Starts a gateway on {@code yamlConfig}, with no plugins folder and the process environment. */
    public static RunningGateway start(String yamlConfig) throws Exception {
        return start(yamlConfig, null, System.getenv());
    }

    /**
     * Starts a gateway on {@code yamlConfig}, loading plugin jars from {@code pluginsDir} (may be {@code null}) and
     * substituting variables from {@code environment}. Ports in the configuration are replaced by free ones.
     */
    public static RunningGateway start(String yamlConfig, Path pluginsDir, Map<String, String> environment)
            throws Exception {
        return start(yamlConfig, pluginsDir, environment, 0);
    }

    /** Starts a gateway on {@code yamlConfig} with its gRPC front on a free port as well. */
    public static RunningGateway startWithGrpc(String yamlConfig) throws Exception {
        return start(yamlConfig, null, System.getenv(), dev.modelgate.spi.front.FrontContext.ANY_FREE_PORT);
    }

    /**
     * Starts a gateway on {@code yamlConfig} that reloads ({@code --watch}) when its configuration file
     * ({@link #configFile()}) or {@code pluginsDir} changes.
     */
    public static RunningGateway startWatching(String yamlConfig, Path pluginsDir) throws Exception {
        return start(yamlConfig, pluginsDir, System.getenv(), 0, true);
    }

    private static RunningGateway start(String yamlConfig, Path pluginsDir, Map<String, String> environment,
            int grpcPort) throws Exception {
        return start(yamlConfig, pluginsDir, environment, grpcPort, false);
    }

    private static RunningGateway start(String yamlConfig, Path pluginsDir, Map<String, String> environment,
            int grpcPort, boolean watch) throws Exception {
        Path configFile = Files.createTempFile("modelgate-test-", ".yaml");
        Files.writeString(configFile, yamlConfig);
        try {
            CommandLine serving = CommandLine.serving(configFile, 0, 0, grpcPort, pluginsDir);
            CommandLine commandLine = watch ? serving.watching() : serving;
            return new RunningGateway(Gateway.start(commandLine, environment), configFile);
        } catch (Exception | Error e) {
            Files.deleteIfExists(configFile);
            throw e;
        }
    }

    public Gateway gateway() {
        return gateway;
    }

    /** The configuration file the gateway reads, at start and at each reload. */
    public Path configFile() {
        return configFile;
    }

    /**
     * Writes {@code yamlConfig} to the configuration file and reloads it, as {@code POST /reload} would.
     *
     * @return what the reload did
     */
    public Reloader.Outcome reload(String yamlConfig) {
        try {
            Files.writeString(configFile, yamlConfig);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return gateway.reload("test");
    }

    public int port() {
        return gateway.port();
    }

    /** The gRPC front's port, 0 when it is off. */
    public int grpcPort() {
        return gateway.grpcPort();
    }

    public int adminPort() {
        return gateway.adminPort();
    }

    public URI uri(String path) {
        return URI.create("http://127.0.0.1:" + port() + path);
    }

    public URI adminUri(String path) {
        return URI.create("http://127.0.0.1:" + adminPort() + path);
    }

    /** {@code GET path} with headers given as name, value, name, value. */
    public HttpResponse<String> get(String path, String... headerNameValues) {
        return send(HttpRequest.newBuilder(uri(path)).GET(), headerNameValues);
    }

    public HttpResponse<String> adminGet(String path) {
        return send(HttpRequest.newBuilder(adminUri(path)).GET());
    }

    /** One scrape of the admin listener's {@code /metrics}. */
    public MetricScrape metrics() {
        HttpResponse<String> response = adminGet("/metrics");
        if (response.statusCode() != 200) {
            throw new AssertionError("/metrics answered " + response.statusCode() + ": " + response.body());
        }
        return MetricScrape.parse(response.body());
    }

    /**
     * The value of {@code series} ({@code name{label="value",...}}, labels in any order) now.
     *
     * @throws AssertionError when the gateway does not export that series
     */
    public double metric(String series) {
        return metrics().value(series);
    }

    /** The metrics hold {@code sample} ({@code name{labels} value}, the value compared as a number) now. */
    public void assertMetric(String sample) {
        MetricScrape metrics = metrics();
        if (!metrics.holds(sample)) {
            throw new AssertionError("no '" + sample + "' in:\n" + metrics.text());
        }
    }

    /** {@link #awaitMetric(String, Duration)} within {@link Await#DEADLINE}. */
    public void awaitMetric(String sample) {
        awaitMetric(sample, Await.DEADLINE);
    }

    /**
     * Scrapes the admin listener's metrics until they hold {@code sample} ({@code name{labels} value}, the value
     * compared as a number), as what runs when an exchange completes (after its client has the answer) lands a moment
     * later.
     *
     * @throws AssertionError naming the sample and the last scrape, when {@code within} passes first
     */
    public void awaitMetric(String sample, Duration within) {
        MetricScrape[] last = new MetricScrape[1];
        Await.until("'" + sample + "' on /metrics", within, () -> {
            last[0] = metrics();
            return last[0].holds(sample) ? last[0] : null;
        }, () -> last[0].text());
    }

    /** {@code POST path} with a body of {@code contentType} (none when {@code null}). */
    public HttpResponse<String> post(String path, String contentType, String body, String... headerNameValues) {
        HttpRequest.Builder request = HttpRequest.newBuilder(uri(path))
                .POST(HttpRequest.BodyPublishers.ofString(body));
        if (contentType != null) {
            request.header("Content-Type", contentType);
        }
        return send(request, headerNameValues);
    }

    /** Sends any request, for methods and bodies the shortcuts above do not cover. */
    public static HttpResponse<String> send(HttpRequest.Builder request, String... headerNameValues) {
        for (int i = 0; i + 1 < headerNameValues.length; i += 2) {
            request.header(headerNameValues[i], headerNameValues[i + 1]);
        }
        try {
            return CLIENT.send(request.timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() throws IOException {
        try {
            gateway.shutdown(Duration.ofSeconds(5));
        } finally {
            Files.deleteIfExists(configFile);
        }
    }
}
