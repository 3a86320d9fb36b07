package dev.modelgate.plugins.grpcfront;

import dev.modelgate.spi.CoreErrors;
import io.grpc.HandlerRegistry;
import io.grpc.ServerCallHandler;
import io.grpc.ServerMethodDefinition;

/**
 * Every method no service has: answered UNIMPLEMENTED with code 20004, after the global middlewares, as the API
 * listener answers a path it does not know (authentication first, and every call logged).
 */
final class UnknownMethods extends HandlerRegistry {

    private final ServerCallHandler<byte[], byte[]> handler;

    UnknownMethods(Calls calls, Handlers handlers) {
        this.handler = handlers.refusing(call -> calls.run(call.refused(CallContext.FRONT, CoreErrors.NO_SUCH_ENDPOINT,
                "'" + call.path() + "'")));
    }

    @Override
    public ServerMethodDefinition<?, ?> lookupMethod(String methodName, String authority) {
        return ServerMethodDefinition.create(RawMethods.unknown(methodName), handler);
    }
}
