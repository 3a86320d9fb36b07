package dev.modelgate.plugins.grpc;

import dev.modelgate.plugins.pool.InstancePool;
import dev.modelgate.spi.Backend;
import dev.modelgate.spi.BackendProvider;
import dev.modelgate.spi.ConfigNode;
import dev.modelgate.spi.ErrorCode;
import dev.modelgate.spi.PluginContext;
import dev.modelgate.spi.inference.InferenceCodec;
import java.util.List;

/**
 * The {@code grpc} backend: model servers reached over gRPC, speaking {@code protocol: kserve-v2} (the Open Inference
 * Protocol's {@code GRPCInferenceService}: Triton, KServe, MLServer) or {@code protocol: model-service} (the seed
 * article's {@code ModelService}). Clients of every front reach them through the tensor model. See
 * {@link GrpcBackend} for what one call does.
 *
 * <p>Config keys: {@code protocol} (required); {@code url} ({@code grpc://host:port}, or {@code grpcs://host:port}
 * for TLS) or {@code instances}, with {@code balancer}, {@code rules}, {@code default-instances},
 * {@code health-check} (no {@code path}: the protocol fixes the probe) and {@code outlier-detection} as for the
 * {@code http} backend; {@code request-timeout} (30s), {@code keep-alive-time} (5m), {@code keep-alive-timeout}
 * (20s), {@code max-message-size} (64MB), {@code forward-headers} (x-request-id, traceparent, tracestate),
 * {@code model-name}, and {@code tls} ({@code ca-file}, {@code cert-file} and {@code key-file}, PEM) for grpcs
 * instances.
 */
public final class GrpcBackendProvider implements BackendProvider {

    /** The model server answered NOT_FOUND: it does not serve the model (or version) the route sends it. */
    public static final ErrorCode MODEL_NOT_FOUND = new ErrorCode(40027, 404, "NOT_FOUND",
            "the model server does not serve this model");

    private static final String MEDIA_TYPE = "application/x-protobuf";

    @Override
    public String type() {
        return "grpc";
    }

    @Override
    public List<ErrorCode> errorCodes() {
        return List.of(MODEL_NOT_FOUND);
    }

    @Override
    public Backend create(ConfigNode config, PluginContext context) {
        GrpcBackendSettings settings = GrpcBackendSettings.from(config, context);
        if (settings.protocol() == null) {
            return null;
        }
        InferenceCodec codec = context.codec(settings.protocol().dialect(), MEDIA_TYPE).orElse(null);
        if (codec == null) {
            config.problem("protocol", "no " + settings.protocol().dialect() + " Protobuf codec is loaded: add its "
                    + "plugin");
            return null;
        }
        Channels channels = Channels.open(settings, config);
        if (channels == null) {
            return null;
        }
        // Monotonic: the wall clock stepping back would keep ejected instances out for as much longer.
        return new GrpcBackend(settings, channels, codec, InstancePool.backendName(context), context.metrics(),
                context.logger(), System::nanoTime);
    }
}
