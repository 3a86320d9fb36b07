package dev.modelgate.plugins.grpcfront;

import com.google.protobuf.Any;
import com.google.rpc.ErrorInfo;
import dev.modelgate.spi.CoreErrors;
import dev.modelgate.spi.ErrorCode;
import dev.modelgate.spi.Response;
import dev.modelgate.spi.front.FrontContext;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Set;

/**
 * What one call through the pipeline came to, in gRPC's terms: an answer message with the headers the middlewares
 * set ({@code x-request-id}, rate-limit counts), or an error with the catalogue's gRPC status and, in the status
 * details, a {@code google.rpc.Status} holding a {@code google.rpc.ErrorInfo}: {@code reason} the five-digit code,
 * {@code domain} {@value #DOMAIN}, {@code metadata} {@code code}, {@code http-status}.
 *
 * @param message the answer, or {@code null} for an error
 * @param headers the headers sent before the answer, or the trailers after an error
 * @param error the error's catalogue entry, or {@code null}
 * @param errorMessage the error's client-safe message
 * @param httpStatus the pipeline's status: 200, or 503 for a "not ready" answer that is no error
 */
record Outcome(byte[] message, Metadata headers, ErrorCode error, String errorMessage, int httpStatus) {

    static final String DOMAIN = "modelgate.dev";
    /** Headers that describe the HTTP body the pipeline wrote, not the call. */
    private static final Set<String> BODY_HEADERS = Set.of("content-type", "content-length", "content-encoding",
            "x-modelgate-code", "vary");

    /** {@code response} of the pipeline, its code looked up in {@code context}'s catalogue. */
    static Outcome of(Response response, FrontContext context) {
        Metadata headers = metadataOf(response);
        byte[] body = response.body().bytes();
        if (response.isSuccess()) {
            return new Outcome(body, headers, null, null, response.status());
        }
        ErrorCode error = context.errorCode(response.code()).orElse(CoreErrors.INTERNAL);
        return new Outcome(null, headers, error, new String(body, StandardCharsets.UTF_8), response.status());
    }

    /** An answer the front writes itself. */
    static Outcome answer(byte[] message) {
        return new Outcome(message, new Metadata(), null, null, 200);
    }

    /** An error the front decides itself, without the pipeline. */
    static Outcome error(ErrorCode error, String message) {
        return new Outcome(null, new Metadata(), error, message, error.httpStatus());
    }

    /** This success with {@code answer} as its message instead of the pipeline's body. */
    Outcome answering(byte[] answer) {
        return new Outcome(answer, headers, null, null, httpStatus);
    }

    /** Whether the pipeline answered 200, not 503 ("not ready", which is no error). */
    boolean ok() {
        return httpStatus < 300;
    }

    boolean failed() {
        return error != null;
    }

    /** The error as the status the call ends with, details in its trailers. */
    StatusRuntimeException status() {
        return status(error, errorMessage, headers);
    }

    /** {@code error} with {@code message} as a gRPC status, the details beside {@code trailers}. */
    static StatusRuntimeException status(ErrorCode error, String message, Metadata trailers) {
        com.google.rpc.Status details = com.google.rpc.Status.newBuilder()
                .setCode(Status.Code.valueOf(error.grpcStatus()).value())
                .setMessage(message)
                .addDetails(Any.pack(ErrorInfo.newBuilder()
                        .setReason(Integer.toString(error.code()))
                        .setDomain(DOMAIN)
                        .putMetadata("code", Integer.toString(error.code()))
                        .putMetadata("http-status", Integer.toString(error.httpStatus()))
                        .build()))
                .build();
        return StatusProto.toStatusRuntimeException(details, trailers);
    }

    /** Sends the answer and ends the call, or ends it with the error. */
    void deliver(OpenCall call) {
        if (failed()) {
            StatusRuntimeException status = status();
            call.close(status.getStatus(), status.getTrailers());
            return;
        }
        call.send(headers, message);
        call.close(Status.OK, new Metadata());
    }

    /** The response headers gRPC can carry as ASCII metadata. */
    private static Metadata metadataOf(Response response) {
        Metadata metadata = new Metadata();
        response.forEachHeader((name, value) -> {
            String key = name.toLowerCase(Locale.ROOT);
            if (BODY_HEADERS.contains(key)) {
                return;
            }
            try {
                metadata.put(Metadata.Key.of(key, Metadata.ASCII_STRING_MARSHALLER), value);
            } catch (IllegalArgumentException e) {
                // A name or value gRPC metadata cannot hold: the HTTP front's business only.
            }
        });
        return metadata;
    }
}
