package dev.modelgate.kernel;

import dev.modelgate.spi.BackendErrorText;
import dev.modelgate.spi.Body;
import dev.modelgate.spi.CoreErrors;
import dev.modelgate.spi.ErrorCode;
import dev.modelgate.spi.Exchange;
import dev.modelgate.spi.Headers;
import dev.modelgate.spi.Response;
import dev.modelgate.spi.inference.InferenceCodec;
import dev.modelgate.spi.inference.Payload;

/**
 * What the model servers' protocols share: errors as {@code {"error": "..."}} (with the gateway's code as a
 * {@code code} field and in {@link #CODE_HEADER}), codec answers and backend answers passed on unchanged.
 */
abstract class ProtocolFront implements Front {

    private static final System.Logger LOG = System.getLogger(ProtocolFront.class.getName());

    @Override
    public String bodyDialect() {
        return dialect();
    }

    /**
     * What clients of the model servers' protocols send when they declare nothing: no type (tritonclient), or curl's
     * default for {@code -d}. Read as JSON, as those servers do; Triton's binary form is told by its own header.
     */
    private static final java.util.Set<String> UNDECLARED_MEDIA_TYPES =
            java.util.Set.of("", "application/x-www-form-urlencoded");

    @Override
    public String readAs(String contentType) {
        return UNDECLARED_MEDIA_TYPES.contains(InferenceCodec.mediaTypeOf(contentType)) ? "application/json"
                : contentType;
    }

    @Override
    public Response error(ErrorCode errorCode, String detail) {
        return new Response(errorCode.httpStatus(), new Headers().set("Content-Type", "application/json")
                .set(CODE_HEADER, Integer.toString(errorCode.code())),
                Body.of(Envelope.protocolError(errorCode, detail)), errorCode.code());
    }

    @Override
    public Response answer(Payload payload) {
        Headers headers = new Headers(payload.headers()).set("Content-Type", payload.contentType());
        return new Response(200, headers, Body.of(payload.body()), 0);
    }

    @Override
    public boolean passesAsIs(int status) {
        return status < 400;
    }

    /**
     * The backend speaks this protocol: its answer is what the client's SDK expects. A refusal keeps the backend's
     * status and the protocol's {@code {"error": "..."}} shape, but only the backend's own message, cleaned (a stack
     * trace or an HTML page never reaches the client, see {@link BackendErrorText}), and carries the gateway's code
     * (40006 for a 4xx, 40005 for a 5xx) for the access log and the middlewares.
     */
    @Override
    public Response passThrough(Response backendAnswer, Exchange exchange) {
        int status = backendAnswer.status();
        if (passesAsIs(status)) {
            return backendAnswer;
        }
        ErrorCode errorCode = CoreErrors.ofBackendStatus(status);
        String message = BackendErrorText.clientMessage(status, backendAnswer.body().bytes(), exchange, LOG);
        return new Response(status, new Headers().set("Content-Type", "application/json"),
                Body.of(Envelope.protocolMessage(message == null ? "backend answered HTTP " + status : message)),
                errorCode.code());
    }

    /** A JSON answer of this protocol. */
    static Response json(int status, String json) {
        return Response.of(status, "application/json", json.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }
}
