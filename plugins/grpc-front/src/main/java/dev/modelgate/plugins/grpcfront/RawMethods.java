package dev.modelgate.plugins.grpcfront;

import io.grpc.MethodDescriptor;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/**
 * Methods whose messages the front handles as bytes: the codecs read requests and write answers, so a message is
 * parsed once, by the codec, and an answer is sent as the codec wrote it.
 */
final class RawMethods {

    /** A message as its bytes. */
    static final MethodDescriptor.Marshaller<byte[]> BYTES = new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(byte[] value) {
            return new ByteArrayInputStream(value);
        }

        @Override
        public byte[] parse(InputStream stream) {
            try {
                return stream.readAllBytes();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    };

    private RawMethods() {
    }

    /** {@code method} with its messages as bytes; name, type and schema (for reflection) unchanged. */
    static MethodDescriptor<byte[], byte[]> raw(MethodDescriptor<?, ?> method) {
        return method.toBuilder(BYTES, BYTES).build();
    }

    /** A method the gateway does not serve, named by the client: unary as far as the front is concerned. */
    static MethodDescriptor<byte[], byte[]> unknown(String fullMethodName) {
        return MethodDescriptor.<byte[], byte[]>newBuilder(BYTES, BYTES)
                .setType(MethodDescriptor.MethodType.UNKNOWN)
                .setFullMethodName(fullMethodName)
                .build();
    }
}
