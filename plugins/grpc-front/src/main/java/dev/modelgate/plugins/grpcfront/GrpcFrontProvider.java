package dev.modelgate.plugins.grpcfront;

import dev.modelgate.spi.ConfigNode;
import dev.modelgate.spi.ErrorCode;
import dev.modelgate.spi.front.FrontContext;
import dev.modelgate.spi.front.FrontProvider;
import dev.modelgate.spi.front.ListenerFront;
import java.util.List;
import java.util.Optional;

/**
 * The gRPC front, on {@code server.grpc-port} (8081; {@code --grpc-port}; 0 turns it off), configured under
 * {@code fronts.grpc}: {@code default-model}, the model of ModelService requests that name none.
 */
public final class GrpcFrontProvider implements FrontProvider {

    /** A ModelService request names no model, and no default model is configured. */
    public static final ErrorCode NO_MODEL = new ErrorCode(20030, 400, "INVALID_ARGUMENT",
            "the request names no model and fronts.grpc.default-model is not set");
    /** A unary call sent no request message, or more than one. */
    public static final ErrorCode NOT_ONE_MESSAGE = new ErrorCode(20031, 400, "INVALID_ARGUMENT",
            "a unary gRPC call takes exactly one request message");

    @Override
    public String type() {
        return CallContext.FRONT;
    }

    @Override
    public List<ErrorCode> errorCodes() {
        return List.of(NO_MODEL, NOT_ONE_MESSAGE);
    }

    @Override
    public Optional<ListenerFront> create(ConfigNode config, FrontContext context) {
        String defaultModel = config.string("default-model", "");
        if (context.port() == 0) {
            return Optional.empty();
        }
        return Optional.of(new GrpcFront(context, defaultModel.isEmpty() ? null : defaultModel));
    }
}
