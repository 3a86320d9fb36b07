package dev.modelgate.kernel;

import com.fasterxml.jackson.core.JsonGenerator;
import dev.modelgate.spi.BackendErrorText;
import dev.modelgate.spi.Body;
import dev.modelgate.spi.CoreErrors;
import dev.modelgate.spi.ErrorCode;
import dev.modelgate.spi.Exchange;
import dev.modelgate.spi.Headers;
import dev.modelgate.spi.Json;
import dev.modelgate.spi.Operation;
import dev.modelgate.spi.Response;
import dev.modelgate.spi.inference.Payload;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Set;

/**
 * The OpenAI-compatible API under a prefix ({@code /openai/v1} by default): chat completions, completions,
 * embeddings and the model list, in OpenAI's wire format ({@code shared/reference/protocols.md} section 6), with
 * errors in OpenAI's shape so that the official SDKs raise their usual exceptions.
 *
 * <p>The model an OpenAI call names is in its body, not its path, so the kernel does not route by it: every call goes
 * to one route ({@code fronts.openai.route}), whose backend forwards bodies of dialect {@code openai} (the
 * {@code openai} backend plugin) and chooses an upstream by the body's {@code model}. The call's verb is its path
 * under the prefix ({@code chat/completions}, {@code models/llama3:8b}), the path under an upstream's base URL.
 */
final class OpenAiFront implements Front {

    static final String DIALECT = "openai";
    private static final System.Logger LOG = System.getLogger(OpenAiFront.class.getName());
    private static final Set<String> POST_CALLS = Set.of("chat/completions", "completions", "embeddings");
    private static final String MODELS = "models";

    private final String prefix;
    private final String route;

    /**
     * @param prefix where the front's paths start, such as {@code /openai/v1}
     * @param route the route every call of this front reaches
     */
    OpenAiFront(String prefix, String route) {
        this.prefix = prefix;
        this.route = route;
    }

    @Override
    public String dialect() {
        return DIALECT;
    }

    @Override
    public String bodyDialect() {
        return DIALECT;
    }

    @Override
    public FrontCall match(String method, String path, String accept) {
        if (!path.startsWith(prefix) || path.length() > prefix.length() && path.charAt(prefix.length()) != '/') {
            return null;
        }
        String verb = path.length() > prefix.length() ? path.substring(prefix.length() + 1) : "";
        if (POST_CALLS.contains(verb)) {
            return new FrontCall(this, Operation.PREDICT, route, null, verb, "POST", null);
        }
        if (verb.equals(MODELS)) {
            return new FrontCall(this, Operation.LIST_MODELS, route, null, verb, "GET", null);
        }
        if (verb.startsWith(MODELS + "/") && verb.length() > MODELS.length() + 1) {
            return new FrontCall(this, Operation.GET_MODEL, route, null, verb, "GET", null);
        }
        return FrontCall.nothing(this);
    }

    /** Streamed answers are server-sent events, which SDKs may ask for by name. */
    @Override
    public boolean forwards(String accept) {
        return Front.super.forwards(accept) || Codecs.accepts(accept, "text/event-stream");
    }

    @Override
    public Response error(ErrorCode errorCode, String detail) {
        return new Response(errorCode.httpStatus(), new Headers().set("Content-Type", "application/json")
                .set(CODE_HEADER, Integer.toString(errorCode.code())),
                Body.of(errorBody(Envelope.message(errorCode, detail), typeOf(errorCode.httpStatus()),
                        Integer.toString(errorCode.code()))), errorCode.code());
    }

    /**
     * OpenAI's error object, {@code {"error":{"message","type","param","code"}}}: what SDKs read, and what a stream
     * that fails midway ends with.
     */
    static byte[] errorBody(String message, String type, String code) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(160);
        try (JsonGenerator json = Json.FACTORY.createGenerator(out)) {
            json.writeStartObject();
            json.writeObjectFieldStart("error");
            json.writeStringField("message", message);
            json.writeStringField("type", type);
            json.writeNullField("param");
            json.writeStringField("code", code);
            json.writeEndObject();
            json.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    /** OpenAI's error type for an HTTP status, as its API answers them. */
    private static String typeOf(int status) {
        return switch (status) {
            case 401 -> "authentication_error";
            case 403 -> "permission_error";
            case 404 -> "not_found_error";
            case 429 -> "rate_limit_error";
            default -> status < 500 ? "invalid_request_error" : "api_error";
        };
    }

    @Override
    public Response answer(Payload payload) {
        return Response.of(200, payload.contentType(), payload.body());
    }

    @Override
    public boolean passesAsIs(int status) {
        return status < 400;
    }

    /**
     * The upstream's answer; a refusal keeps its status and OpenAI's shape, but only its message, cleaned (see
     * {@link BackendErrorText}) and its {@code Retry-After}, with the gateway's code (40006 for a 4xx, 40005 for a 5xx)
     * in {@link #CODE_HEADER}.
     */
    @Override
    public Response passThrough(Response backendAnswer, Exchange exchange) {
        int status = backendAnswer.status();
        if (passesAsIs(status)) {
            return backendAnswer;
        }
        ErrorCode errorCode = CoreErrors.ofBackendStatus(status);
        String message = BackendErrorText.clientMessage(status, backendAnswer.body().bytes(), exchange, LOG);
        Headers headers = new Headers().set("Content-Type", "application/json")
                .set(CODE_HEADER, Integer.toString(errorCode.code()));
        // An SDK waits as long as a rate-limited upstream asks before it retries.
        String retryAfter = backendAnswer.header("Retry-After");
        if (retryAfter != null) {
            headers.set("Retry-After", retryAfter);
        }
        return new Response(status, headers,
                Body.of(errorBody(message == null ? "upstream answered HTTP " + status : message, typeOf(status),
                        Integer.toString(errorCode.code()))), errorCode.code());
    }

    /** The model list and a model's description come from the upstreams too, through the route's backend. */
    @Override
    public Response describe(FrontCall call, Route route, Exchange exchange, Codecs codecs,
            MetricsRegistry metrics) {
        return Predictor.predict(route.backendName(), route.backend(), route.filters(), (RealExchange) exchange,
                codecs, metrics);
    }

    @Override
    public Response serveServer(FrontCall call, Deployment deployment, Exchange exchange) {
        return exchange.error(CoreErrors.NO_SUCH_ENDPOINT, "'" + exchange.path() + "'");
    }
}
