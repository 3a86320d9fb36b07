package dev.modelgate.plugins.onnx;

import dev.modelgate.spi.Backend;
import dev.modelgate.spi.BackendProvider;
import dev.modelgate.spi.ConfigNode;
import dev.modelgate.spi.PluginContext;

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

    private static final int DEFAULT_MAX_BATCH = 1024;
    private static final int MAX_BATCH_LIMIT = 1 << 20;
    private static final int MAX_INTRA_OP_THREADS = 1024;

    @Override
    public String type() {
        return "onnx";
    }

    /**
     * Loads the model. Returns {@code null} when the configuration has problems, which are reported on the node.
     * ONNX Runtime is touched only from here on, in {@link OnnxModelLoader}: this class names none of its types, so
     * that a gateway with no {@code onnx} backend, which still loads every provider, never loads ONNX Runtime.
     *
     * @throws ai.onnxruntime.OrtException when ONNX Runtime cannot load the model
     * @throws IllegalArgumentException when the model has inputs or outputs the backend does not serve
     */
    @Override
    public Backend create(ConfigNode config, PluginContext context) throws Exception {
        String model = config.string("model");
        int intraOpThreads = config.integer("intra-op-threads", 1, 1, MAX_INTRA_OP_THREADS);
        int maxBatch = config.integer("max-batch", DEFAULT_MAX_BATCH, 1, MAX_BATCH_LIMIT);
        if (model.isEmpty()) {
            return null; // the missing key is reported; the kernel discards the result
        }
        return OnnxModelLoader.load(model, intraOpThreads, maxBatch, config, context);
    }
}
