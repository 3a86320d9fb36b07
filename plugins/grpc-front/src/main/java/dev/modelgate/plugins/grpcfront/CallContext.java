package dev.modelgate.plugins.grpcfront;

import dev.modelgate.spi.CoreErrors;
import dev.modelgate.spi.ErrorCode;
import dev.modelgate.spi.Headers;
import dev.modelgate.spi.Operation;
import dev.modelgate.spi.front.ClientGone;
import dev.modelgate.spi.front.FrontRequest;
import io.grpc.Context;
import io.grpc.Deadline;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * What every pipeline call of one gRPC call shares: its metadata as headers, its peer, its deadline and its method
 * name, taken when the call starts (on its own thread, in its own {@link Context}).
 *
 * @param path the full method name with a leading slash, as the access log shows it
 * @param deadlineNanos the {@code grpc-timeout} as a {@link System#nanoTime()} deadline, {@link Long#MAX_VALUE} for none
 * @param metadataBytes the size of the call's metadata as HTTP/2 counts it (32 bytes per entry beyond its text)
 * @param maxBodyBytes the largest request message the pipeline takes, {@code server.max-body-size}
 * @param cancellation the call's context, which gRPC cancels when the client goes away
 */
record CallContext(String path, Headers headers, String clientAddress, long deadlineNanos, long metadataBytes,
        long maxBodyBytes, Context cancellation) {

    /** The front's name, as routes list it in {@code fronts:} and metrics label its calls. */
    static final String FRONT = "grpc";
    /** The media type of the codecs that read and write the front's messages. */
    static final String PROTOBUF = "application/x-protobuf";

    /** Per entry, HTTP/2's header list size counts 32 bytes beyond the name and value (RFC 9113, 6.5.2). */
    private static final int ENTRY_OVERHEAD = 32;

    static CallContext of(ServerCall<?, ?> call, Metadata metadata, long maxBodyBytes) {
        Deadline deadline = Context.current().getDeadline();
        long deadlineNanos = deadline == null ? Long.MAX_VALUE
                : System.nanoTime() + deadline.timeRemaining(TimeUnit.NANOSECONDS);
        SocketAddress peer = call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR);
        String address = peer instanceof InetSocketAddress inet && inet.getAddress() != null
                ? inet.getAddress().getHostAddress() : "";
        return new CallContext("/" + call.getMethodDescriptor().getFullMethodName(), headersOf(metadata), address,
                deadlineNanos, sizeOf(metadata), maxBodyBytes, Context.current());
    }

    /**
     * The call's client went away: gRPC cancels the call's context with a cause when the client cancels or the
     * connection breaks, at once and apart from the call's serialised callbacks (a completed call's context is
     * cancelled too, without a cause, which is not the client leaving).
     */
    private ClientGone clientGone() {
        return listener -> {
            Context.CancellationListener cancelled = context -> {
                if (context.cancellationCause() != null) {
                    listener.run();
                }
            };
            cancellation.addListener(cancelled, Runnable::run);
            return () -> cancellation.removeListener(cancelled);
        };
    }

    private static long sizeOf(Metadata metadata) {
        long size = 0;
        for (String name : metadata.keys()) {
            Iterable<byte[]> values = name.endsWith(Metadata.BINARY_HEADER_SUFFIX)
                    ? metadata.getAll(Metadata.Key.of(name, Metadata.BINARY_BYTE_MARSHALLER))
                    : java.util.stream.StreamSupport.stream(metadata.getAll(
                            Metadata.Key.of(name, Metadata.ASCII_STRING_MARSHALLER)).spliterator(), false)
                            .map(value -> value.getBytes(java.nio.charset.StandardCharsets.US_ASCII)).toList();
            for (byte[] value : values) {
                size += name.length() + value.length + ENTRY_OVERHEAD;
            }
        }
        return size;
    }

    /**
     * The call's text metadata as request headers, for the middlewares ({@code authorization}, {@code x-api-key},
     * {@code x-request-id}) and the backend; gRPC's own ({@code grpc-*}, {@code te}, {@code content-type}) and binary
     * ({@code -bin}) entries stay behind. The body's type is the codecs' Protobuf.
     */
    private static Headers headersOf(Metadata metadata) {
        Headers headers = new Headers();
        for (String name : metadata.keys()) {
            String lower = name.toLowerCase(Locale.ROOT);
            if (lower.endsWith(Metadata.BINARY_HEADER_SUFFIX) || lower.startsWith("grpc-") || lower.equals("te")
                    || lower.equals("content-type") || lower.startsWith(":")) {
                continue;
            }
            Iterable<String> values = metadata.getAll(Metadata.Key.of(name, Metadata.ASCII_STRING_MARSHALLER));
            if (values != null) {
                values.forEach(value -> headers.add(name, value));
            }
        }
        return headers.set("Content-Type", PROTOBUF).set("Accept", PROTOBUF);
    }

    /**
     * A call of {@code bodyDialect}'s messages through the pipeline; a message over {@code server.max-body-size}
     * (which gRPC itself lets through up to twice that) is refused with 20003 after the global middlewares.
     */
    FrontRequest request(String bodyDialect, Operation operation, String model, String modelVersion, String verb,
            byte[] body) {
        if (body.length > maxBodyBytes) {
            return refused(bodyDialect, CoreErrors.BODY_TOO_LARGE, "the limit is " + maxBodyBytes + " bytes");
        }
        return new FrontRequest(FRONT, bodyDialect, operation, model, modelVersion, verb, path, new Headers(headers),
                body, deadlineNanos, clientAddress, null, null, clientGone());
    }

    /** A call refused before routing: it passes the global middlewares and ends in {@code refusal}. */
    FrontRequest refused(String bodyDialect, ErrorCode refusal, String detail) {
        return new FrontRequest(FRONT, bodyDialect, Operation.OTHER, null, null, null, path, new Headers(headers),
                new byte[0], deadlineNanos, clientAddress, refusal, detail, ClientGone.NEVER);
    }
}
