package dev.modelgate.spi.front;

import dev.modelgate.spi.ErrorCode;
import dev.modelgate.spi.Headers;
import dev.modelgate.spi.Operation;

/**
 * One call of a {@link ListenerFront}, as the pipeline runs it.
 *
 * @param front the front's name, as routes list it in {@code fronts:} and metrics label it ({@code grpc})
 * @param bodyDialect the dialect whose codecs read and write the body ({@code kserve-v2}, {@code model-service})
 * @param operation what the call does; {@link Operation#SERVER} for calls about the server
 * @param model the model named, or {@code null}
 * @param modelVersion the model version named, or {@code null}
 * @param verb the call in its protocol's words ({@code infer}, {@code ready}, {@code metadata}, {@code live})
 * @param path what the access log and middlewares see as the path: the full gRPC method name
 * @param headers the call's metadata as headers: {@code authorization}, {@code x-api-key}, {@code x-request-id};
 *     {@code Content-Type} and {@code Accept} name the body's media type
 * @param body the request message
 * @param deadlineNanos the client's {@link System#nanoTime()} deadline, {@link Long#MAX_VALUE} for none; the route's
 *     timeout may shorten it
 * @param clientAddress the peer's IP address
 * @param refusal when not {@code null}, the call is not routed: it passes the global middlewares and ends in this error
 * @param refusalDetail the refusal's client-safe detail
 * @param clientGone tells when the call's client goes away; {@link ClientGone#NEVER} when the front cannot tell
 */
public record FrontRequest(String front, String bodyDialect, Operation operation, String model, String modelVersion,
        String verb, String path, Headers headers, byte[] body, long deadlineNanos, String clientAddress,
        ErrorCode refusal, String refusalDetail, ClientGone clientGone) {
}
