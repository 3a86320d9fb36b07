package dev.modelgate.plugins.grpc;

import dev.modelgate.plugins.kservev2.protobuf.inference.GRPCInferenceServiceGrpc;
import dev.modelgate.plugins.modelservice.api.ModelServiceGrpc;
import java.util.Arrays;
import java.util.List;

/** What a {@code grpc} backend's servers speak: its {@code protocol}, the dialect of the codec of its bytes. */
enum GrpcProtocol {

    /** The Open Inference Protocol's {@code inference.GRPCInferenceService} (Triton, KServe, MLServer). */
    KSERVE_V2("kserve-v2", GRPCInferenceServiceGrpc.getModelInferMethod().getFullMethodName()),
    /** The seed article's {@code ModelService}. */
    MODEL_SERVICE("model-service", ModelServiceGrpc.getPredictMethod().getFullMethodName());

    static final List<String> NAMES = Arrays.stream(values()).map(GrpcProtocol::dialect).toList();

    private final String dialect;
    private final String inferMethod;

    GrpcProtocol(String dialect, String inferMethod) {
        this.dialect = dialect;
        this.inferMethod = inferMethod;
    }

    /** The configuration's name, which is also the dialect of its codec. */
    String dialect() {
        return dialect;
    }

    /** The full name of the method that runs one inference. */
    String inferMethod() {
        return inferMethod;
    }

    /** The protocol named {@code name}, or {@code null}. */
    static GrpcProtocol named(String name) {
        for (GrpcProtocol protocol : values()) {
            if (protocol.dialect.equals(name)) {
                return protocol;
            }
        }
        return null;
    }
}
