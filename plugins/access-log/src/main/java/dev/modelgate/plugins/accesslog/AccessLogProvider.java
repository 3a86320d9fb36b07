package dev.modelgate.plugins.accesslog;

import dev.modelgate.spi.ConfigNode;
import dev.modelgate.spi.Metrics;
import dev.modelgate.spi.Middleware;
import dev.modelgate.spi.MiddlewareProvider;
import dev.modelgate.spi.PluginContext;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;

/**
 * The {@code access-log} middleware: one JSON line per request, written in batches by a background thread.
 *
 * <p>Config keys: {@code output} ({@code stdout} by default, {@code stderr}, or a file path, appended to),
 * {@code queue-size} (entries waiting to be written; more are dropped and counted, default 65536),
 * {@code batch-size} (entries written per flush, default 512) and {@code request-id-header} (default
 * {@code X-Request-Id}). Exports {@code modelgate_access_log_written_total} and
 * {@code modelgate_access_log_dropped_total}.
 */
public final class AccessLogProvider implements MiddlewareProvider {

    private static final int OUTPUT_BUFFER_BYTES = 64 * 1024;

    @Override
    public String type() {
        return "access-log";
    }

    @Override
    public Middleware create(ConfigNode config, PluginContext context) {
        String output = config.string("output", "stdout");
        int queueSize = config.integer("queue-size", 65_536, 1, 1 << 24);
        int batchSize = config.integer("batch-size", 512, 1, 1 << 16);
        String requestIdHeader = config.string("request-id-header", "X-Request-Id");
        OutputStream stream = open(output, config);
        if (stream == null) {
            // Never runs: the kernel discards what a create that reported a problem returns.
            return (exchange, chain) -> chain.proceed();
        }
        Metrics metrics = context.metrics();
        AccessLogWriter accessLog = new AccessLogWriter(
                new BufferedOutputStream(stream, OUTPUT_BUFFER_BYTES),
                !isStandardStream(output),
                queueSize,
                batchSize,
                metrics.counter("modelgate_access_log_written_total", "Access log lines written.", Map.of()),
                metrics.counter("modelgate_access_log_dropped_total",
                        "Access log lines dropped because the queue was full or the output failed.", Map.of()),
                context.logger());
        return new AccessLogMiddleware(accessLog, requestIdHeader, context.clock());
    }

    private static boolean isStandardStream(String output) {
        return output.equals("stdout") || output.equals("stderr");
    }

    /** Opens {@code output} for appending, or reports why it cannot be and returns {@code null}. */
    private static OutputStream open(String output, ConfigNode config) {
        return switch (output) {
            case "stdout" -> System.out;
            case "stderr" -> System.err;
            default -> {
                try {
                    Path file = Path.of(output);
                    // A log folder that does not exist yet (/var/log/modelgate on a fresh machine) is made.
                    Path folder = file.toAbsolutePath().getParent();
                    if (folder != null) {
                        Files.createDirectories(folder);
                    }
                    yield Files.newOutputStream(file,
                            StandardOpenOption.CREATE, StandardOpenOption.APPEND, StandardOpenOption.WRITE);
                } catch (IOException | InvalidPathException e) {
                    config.problem("output", "cannot open '" + output + "' for appending: " + e);
                    yield null;
                }
            }
        };
    }
}
