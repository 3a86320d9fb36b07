package dev.modelgate.plugins.onnx;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.modelgate.spi.Backend;
import dev.modelgate.spi.ConfigNode;
import dev.modelgate.spi.PluginContext;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;

/** Opens an ONNX model in ONNX Runtime for {@link OnnxBackendProvider}: the first class of the plugin that names it. */
final class OnnxModelLoader {

    private static final String CLASSPATH_PREFIX = "classpath:";

    private OnnxModelLoader() {
    }

    /**
     * The backend serving {@code model}, or {@code null} after reporting a model that cannot be found on
     * {@code config}.
     *
     * @throws OrtException when ONNX Runtime cannot load the model
     * @throws IllegalArgumentException when the model has inputs or outputs the backend does not serve
     */
    static Backend load(String model, int intraOpThreads, int maxBatch, ConfigNode config, PluginContext context)
            throws OrtException, IOException {
        NativeLibraryCache.useCachedLibraries(context.logger());
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
            try (InputStream in = OnnxModelLoader.class.getClassLoader().getResourceAsStream(resource)) {
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
