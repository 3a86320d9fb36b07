package dev.modelgate.kernel;

import com.fasterxml.jackson.core.io.JsonStringEncoder;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.modelgate.spi.BackendException;
import dev.modelgate.spi.CoreErrors;
import dev.modelgate.spi.ErrorCode;
import dev.modelgate.spi.Exchange;
import dev.modelgate.spi.Response;
import dev.modelgate.spi.inference.InferenceCodec;
import dev.modelgate.spi.inference.ModelMetadata;
import dev.modelgate.spi.inference.TensorMetadata;
import java.util.List;

/** The kernel's answers that need no inference: the model list, a model's description and metadata. */
final class ModelApi {

    private ModelApi() {
    }

    /** The models served on {@code apiVersion}, each with every version it is served on. */
    static Response listModels(Deployment deployment, String apiVersion) {
        ObjectNode data = Envelope.JSON.createObjectNode();
        ArrayNode models = data.putArray("models");
        deployment.routes().forEach((model, versions) -> {
            if (versions.containsKey(apiVersion)) {
                ObjectNode entry = models.addObject().put("name", model);
                versions.keySet().forEach(entry.putArray("versions")::add);
            }
        });
        return success(data);
    }

    /** The gateway's description of a route's model: name, API version, status and metadata. */
    static Response describe(Route route, ModelMetadata metadata) {
        ObjectNode data = Envelope.JSON.createObjectNode()
                .put("name", route.model())
                .put("version", route.version())
                .put("status", route.backend().ready() ? "AVAILABLE" : "UNAVAILABLE");
        ObjectNode described = data.putObject("metadata").put("platform", metadata.platform());
        metadata.versions().forEach(described.putArray("versions")::add);
        described.set("inputs", tensors(metadata.inputs()));
        described.set("outputs", tensors(metadata.outputs()));
        return success(data);
    }

    private static ArrayNode tensors(List<TensorMetadata> tensors) {
        ArrayNode array = Envelope.JSON.createArrayNode();
        for (TensorMetadata tensor : tensors) {
            ObjectNode entry = array.addObject().put("name", tensor.name()).put("datatype", tensor.type().name());
            tensor.shape().forEach(entry.putArray("shape")::add);
        }
        return array;
    }

    private static Response success(JsonNode data) {
        return Response.of(200, "application/json", Envelope.success(data));
    }

    /**
     * Answers {@code call} with its model's metadata as the route's backend knows it, under the name clients use
     * (without inputs or outputs when the backend knows none); a version the backend does not serve is 404 (40002),
     * and a backend that cannot say is its own failure's code.
     */
    static Response withMetadata(FrontCall call, Route route, Exchange exchange,
            java.util.function.Function<ModelMetadata, Response> answer) {
        ModelMetadata known;
        try {
            known = route.backend().metadata(call.model(), exchange);
        } catch (BackendException e) {
            return exchange.error(codeOf(e.kind()), e.getMessage());
        }
        String versionProblem = versionProblem(call.model(), known, call.modelVersion());
        if (versionProblem != null) {
            return exchange.error(CoreErrors.UNKNOWN_MODEL_VERSION, versionProblem);
        }
        return answer.apply(known != null ? known.withName(call.model())
                : new ModelMetadata(call.model(), List.of(), "", List.of(), List.of()));
    }

    /**
     * Why {@code version} is not one {@code metadata} serves, or {@code null} when it is, when none was asked for, or
     * when the backend does not say. A backend that lists no versions serves version 1 alone, as TF Serving's status
     * answer says of it.
     */
    static String versionProblem(String model, ModelMetadata metadata, String version) {
        if (version == null || metadata == null) {
            return null;
        }
        List<String> served = metadata.versions().isEmpty() ? List.of("1") : metadata.versions();
        return served.contains(version) ? null
                : "'" + model + "' has no version " + ApiPath.quoted(version) + "; it serves " + String.join(", ", served);
    }

    /**
     * {@code metadata} in {@code front}'s dialect, in the media type the client accepts (JSON by default, or the
     * dialect's first codec when it has no JSON one).
     */
    static Response encodeMetadata(Front front, Codecs codecs, Exchange exchange, ModelMetadata metadata) {
        String dialect = front.bodyDialect();
        InferenceCodec preferred = codecs.writer(dialect, "application/json")
                .or(() -> codecs.writable(dialect).stream().findFirst().flatMap(type -> codecs.writer(dialect, type)))
                .orElse(null);
        if (preferred == null) {
            return exchange.error(CoreErrors.NOT_ACCEPTABLE, "no " + dialect + " codec is loaded");
        }
        String accept = exchange.requestHeaders().first("Accept");
        InferenceCodec codec = codecs.negotiate(dialect, accept, preferred).orElse(null);
        if (codec == null) {
            return exchange.error(CoreErrors.NOT_ACCEPTABLE, "'" + accept + "'; this endpoint writes "
                    + String.join(", ", codecs.writable(dialect)));
        }
        return front.answer(codec.encodeMetadata(metadata, exchange));
    }

    static ErrorCode codeOf(BackendException.Kind kind) {
        return switch (kind) {
            case UNAVAILABLE -> CoreErrors.BACKEND_UNAVAILABLE;
            case TIMEOUT -> CoreErrors.BACKEND_TIMEOUT;
            case PROTOCOL -> CoreErrors.BACKEND_BAD_RESPONSE;
        };
    }

    /** {@code text} as a JSON string literal. */
    static String quote(String text) {
        return "\"" + new String(JsonStringEncoder.getInstance().quoteAsString(text)) + "\"";
    }
}
