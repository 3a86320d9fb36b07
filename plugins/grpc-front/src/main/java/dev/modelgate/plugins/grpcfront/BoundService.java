package dev.modelgate.plugins.grpcfront;

import io.grpc.MethodDescriptor;
import io.grpc.ServerCallHandler;
import io.grpc.ServerServiceDefinition;
import io.grpc.ServiceDescriptor;
import java.util.ArrayList;
import java.util.List;

/**
 * A generated service's methods bound with their messages as bytes, under a descriptor that keeps the generated
 * one's name and schema, so that reflection still describes the service from its {@code .proto}.
 */
final class BoundService {

    private final List<MethodDescriptor<byte[], byte[]>> methods = new ArrayList<>();
    private final List<ServerCallHandler<byte[], byte[]>> handlers = new ArrayList<>();

    void add(MethodDescriptor<?, ?> method, ServerCallHandler<byte[], byte[]> handler) {
        methods.add(RawMethods.raw(method));
        handlers.add(handler);
    }

    ServerServiceDefinition definition(ServiceDescriptor generated) {
        ServiceDescriptor.Builder descriptor = ServiceDescriptor.newBuilder(generated.getName())
                .setSchemaDescriptor(generated.getSchemaDescriptor());
        methods.forEach(descriptor::addMethod);
        ServerServiceDefinition.Builder definition = ServerServiceDefinition.builder(descriptor.build());
        for (int i = 0; i < methods.size(); i++) {
            definition.addMethod(methods.get(i), handlers.get(i));
        }
        return definition.build();
    }
}
