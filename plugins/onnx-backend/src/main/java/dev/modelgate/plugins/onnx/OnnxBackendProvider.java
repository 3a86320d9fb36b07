package dev.modelgate.plugins.onnx;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.modelgate.spi.Backend;
import dev.modelgate.spi.BackendProvider;
import dev.modelgate.spi.ConfigNode;
import dev.modelgate.spi.PluginContext;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;

/**
 * The {@code onnx} backend: runs an ONNX model in process with ONNX Runtime, with no model server at all.
 *
 * <pre>
 * backends:
 *   demo:
 *     type: onnx
 *     model: classpath:models/demo.onnx   # required; or a file path, relative to the working directory
 *     intra-op-threads: 1                 # threads ONNX Runtime may use within one operator, per request
 *     max-batch: 1024                     # most rows one request may carry
 * </pre>
 *
 * <p>{@code classpath:models/demo.onnx} is the Iris classifier shipped in this plugin's jar. All backends share one
 * ONNX Runtime environment; each has its own session, loaded once in {@code create}, and its own platform threads
 * for the runs (virtual threads would pin their carriers in the native call): as many as the cores divided by
 * {@code intra-op-threads}, at least one.
 */
public final class OnnxBackendProvider implements BackendProvider {

    private static final String CLASSPATH_PREFIX = "classpath:";
    private static final int DEFAULT_MAX_BATCH = 1024;
    private static final int MAX_BATCH_LIMIT = 1 << 20;
    private static final int MAX_INTRA_OP_THREADS = 1024;

    @Override
    public String type() {
        return "onnx";
    }

    /**
     * Loads the model. Returns {@code null} when the configuration has problems, which are reported on the node.
     *
     * @throws OrtException when ONNX Runtime cannot load the model
     * @throws IllegalArgumentException when the model has inputs or outputs the backend does not serve
     */
    @Override
    public Backend create(ConfigNode config, PluginContext context) throws OrtException, IOException {
        String model = config.string("model");
        int intraOpThreads = config.integer("intra-op-threads", 1, 1, MAX_INTRA_OP_THREADS);
        int maxBatch = config.integer("max-batch", DEFAULT_MAX_BATCH, 1, MAX_BATCH_LIMIT);
        if (model.isEmpty()) {
            return null; // the missing key is reported; the kernel discards the result
        }
        OrtEnvironment environment = OrtEnvironment.getEnvironment();
        OrtSession session;
        // ONNX Runtime copies what it needs from the options into the session, so they can be closed at once.
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            options.setIntraOpNumThreads(intraOpThreads);
            session = open(environment, model, options, config);
        }
        if (session == null) {
            return null;
        }
        try {
            OnnxBackend backend = new OnnxBackend(environment, session, maxBatch, runThreads(intraOpThreads),
                    SessionRunner.daemonThreads(), context.logger());
            context.logger().log(System.Logger.Level.INFO, "loaded ONNX model " + model + ": inputs "
                    + session.getInputInfo().keySet() + ", outputs " + session.getOutputInfo().keySet());
            return backend;
        } catch (OrtException | RuntimeException e) {
            session.close();
            throw e;
        }
    }

    /**
     * How many runs may proceed at once: enough to keep every core busy and no more. Each run computes on
     * {@code intra-op-threads} threads (its own and ONNX Runtime's pool), so more concurrent runs than
     * {@code cores / intra-op-threads} would only time-slice the same cores, slowing every run down and adding to the
     * memory held by runs in progress; callers beyond that wait in the queue, unmounted.
     */
    static int runThreads(int intraOpThreads) {
        return Math.max(1, Runtime.getRuntime().availableProcessors() / intraOpThreads);
    }

    /** A session for {@code model}, or {@code null} after reporting a model that cannot be found. */
    private static OrtSession open(
            OrtEnvironment environment, String model, OrtSession.SessionOptions options, ConfigNode config)
            throws OrtException, IOException {
        if (model.startsWith(CLASSPATH_PREFIX)) {
            String resource = model.substring(CLASSPATH_PREFIX.length()).replaceFirst("^/", "");
            try (InputStream in = OnnxBackendProvider.class.getClassLoader().getResourceAsStream(resource)) {
                if (in == null) {
                    config.problem("model", "no resource '" + resource + "' on the class path");
                    return null;
                }
                return environment.createSession(in.readAllBytes(), options);
            }
        }
        Path path;
        try {
            path = Path.of(model).toAbsolutePath();
        } catch (InvalidPathException e) {
            config.problem("model", "'" + model + "' is not a file path: " + e.getReason());
            return null;
        }
        if (!Files.isRegularFile(path)) {
            config.problem("model", "no model file at " + path + " (a relative path resolves against the working"
                    + " directory)");
            return null;
        }
        return environment.createSession(path.toString(), options);
    }
}
