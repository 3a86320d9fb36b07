package dev.modelgate.kernel;

import dev.modelgate.spi.BackendErrorText;
import dev.modelgate.spi.Body;
import dev.modelgate.spi.CoreErrors;
import dev.modelgate.spi.ErrorCode;
import dev.modelgate.spi.Exchange;
import dev.modelgate.spi.Headers;
import dev.modelgate.spi.Response;
import dev.modelgate.spi.inference.ItemError;
import dev.modelgate.spi.inference.Payload;
import java.io.IOException;
import java.util.List;

/**
 * The gateway's own API: {@code /v1/models}, {@code /v1/models/{m}}, {@code /v1/models/{m}:predict} (and {@code v2},
 * and the unversioned paths with the version in {@code Accept}), every answer in the envelope. Predict bodies are
 * TensorFlow Serving's.
 */
final class GatewayFront implements Front {

    static final String DIALECT = "modelgate";
    /** For answers outside any front: the admin listener, and failures before a front is known. */
    static final GatewayFront INSTANCE = new GatewayFront();
    private static final System.Logger LOG = System.getLogger(GatewayFront.class.getName());

    @Override
    public String dialect() {
        return DIALECT;
    }

    @Override
    public String bodyDialect() {
        return TfServingFront.DIALECT;
    }

    @Override
    public FrontCall match(String method, String path, String accept) {
        ApiPath apiPath = ApiPath.parse(path);
        if (apiPath == null) {
            return null;
        }
        String verb = switch (apiPath.operation()) {
            case LIST_MODELS -> "list";
            case GET_MODEL -> "describe";
            default -> "predict";
        };
        return new FrontCall(this, apiPath.operation(), apiPath.model(), null, verb, apiPath.method(),
                apiPath.version(accept));
    }

    @Override
    public Response error(ErrorCode errorCode, String detail) {
        return new Response(errorCode.httpStatus(), new Headers().set("Content-Type", "application/json")
                .set(CODE_HEADER, Integer.toString(errorCode.code())),
                Body.of(Envelope.error(errorCode, detail)), errorCode.code());
    }

    /** The gateway's API promises its own codes for a predict body that is not a TensorFlow Serving request. */
    @Override
    public void checkForwarded(Exchange exchange, String mediaType) {
        PredictBodyCheck.check(exchange, mediaType);
    }

    @Override
    public Response answer(Payload payload) {
        byte[] wrapped = Envelope.wrapEncoded(payload.mediaType(), payload.body());
        return Response.of(200, payload.contentType(), wrapped);
    }

    /** The envelope's per-item form: the outputs, and in {@code data.items} each item's code and message. */
    @Override
    public Response answerItems(Payload payload, List<ItemError> itemErrors, int items) {
        return Response.of(200, payload.contentType(),
                Envelope.withItems(payload.mediaType(), payload.body(), itemErrors, items));
    }

    /**
     * A backend's TensorFlow Serving answer in the envelope: a 2xx JSON object becomes {@code data} after a streaming
     * check (no tree); any other status becomes the code of a rejected or failed call, with the backend's own
     * {@code error} message as detail (see {@link BackendErrorText}).
     */
    @Override
    public Response passThrough(Response backendAnswer, Exchange exchange) {
        int status = backendAnswer.status();
        if (status >= 200 && status < 300) {
            try {
                return Response.of(200, "application/json", Envelope.wrapSuccess(backendAnswer.body().bytes()));
            } catch (IOException e) {
                return exchange.error(CoreErrors.BACKEND_BAD_RESPONSE, "the body is not a JSON object");
            }
        }
        String detail = BackendErrorText.detail(status, backendAnswer.body().bytes(), exchange, LOG);
        return exchange.error(CoreErrors.ofBackendStatus(status), detail);
    }

    @Override
    public Response describe(FrontCall call, Route route, Exchange exchange, Codecs codecs,
            MetricsRegistry metrics) {
        return ModelApi.withMetadata(call, route, exchange, metadata -> ModelApi.describe(route, metadata));
    }

    @Override
    public Response serveServer(FrontCall call, Deployment deployment, Exchange exchange) {
        return ModelApi.listModels(deployment, call.apiVersion());
    }
}
