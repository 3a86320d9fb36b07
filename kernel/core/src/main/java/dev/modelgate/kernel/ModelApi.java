package dev.modelgate.kernel;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.modelgate.spi.Backend;
import dev.modelgate.spi.BackendException;
import dev.modelgate.spi.CoreErrors;
import dev.modelgate.spi.ErrorCode;
import dev.modelgate.spi.Exchange;
import dev.modelgate.spi.Response;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * The kernel's answers at the end of a pipeline: the model list, a model's metadata, and predictions, the last mapping
 * the backend's own response to the gateway's envelope and its failures to codes.
 */
final class ModelApi {

    private static final System.Logger LOG = System.getLogger(ModelApi.class.getName());
    private static final int MAX_BACKEND_DETAIL = 200;

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

    static Response describe(Route route) {
        ObjectNode data = Envelope.JSON.createObjectNode()
                .put("name", route.model())
                .put("version", route.version())
                .put("status", route.backend().ready() ? "AVAILABLE" : "UNAVAILABLE");
        data.set("metadata", route.backend().metadata());
        return success(data);
    }

    private static Response success(JsonNode data) {
        return Response.of(200, "application/json", Envelope.success(data));
    }

    /** The predict terminal of {@code backendName}: request checked, backend called, answer mapped. */
    static Response predict(String backendName, Backend backend, Exchange exchange) {
        JsonNode request = exchange.json();
        String problem = predictRequestProblem(request);
        if (problem != null) {
            return exchange.error(CoreErrors.INVALID_PREDICT_REQUEST, problem);
        }
        Response answer;
        try {
            if (System.nanoTime() - exchange.deadlineNanos() >= 0) {
                return exchange.error(CoreErrors.DEADLINE_EXCEEDED, "before the backend was called");
            }
            answer = backend.predict(exchange);
        } catch (BackendException e) {
            LOG.log(System.Logger.Level.DEBUG, () -> "backend '" + backendName + "' failed: " + e, e);
            return exchange.error(codeOf(e.kind()), e.getMessage());
        }
        if (!answer.isSuccess()) {
            return answer;
        }
        int status = answer.status();
        if (status >= 200 && status < 300) {
            try {
                return Response.of(200, "application/json", Envelope.wrapSuccess(answer.body().bytes()));
            } catch (IOException e) {
                return exchange.error(CoreErrors.BACKEND_BAD_RESPONSE, "the body is not a JSON object");
            }
        }
        String detail = "backend answered HTTP " + status + backendDetail(answer);
        return exchange.error(status >= 400 && status < 500 ? CoreErrors.BACKEND_REJECTED : CoreErrors.BACKEND_ERROR,
                detail);
    }

    /** Why {@code request} is not a TensorFlow Serving style predict request, or {@code null} when it is one. */
    private static String predictRequestProblem(JsonNode request) {
        if (!request.isObject()) {
            return "the body must be a JSON object with 'instances' or 'inputs'";
        }
        boolean rows = request.has("instances");
        boolean columns = request.has("inputs");
        if (rows == columns) {
            return rows ? "give either 'instances' or 'inputs', not both" : "the body needs 'instances' or 'inputs'";
        }
        if (rows && !request.get("instances").isArray()) {
            return "'instances' must be a list";
        }
        if (rows && request.get("instances").isEmpty()) {
            return "'instances' must not be empty";
        }
        return null;
    }

    private static ErrorCode codeOf(BackendException.Kind kind) {
        return switch (kind) {
            case UNAVAILABLE -> CoreErrors.BACKEND_UNAVAILABLE;
            case TIMEOUT -> CoreErrors.BACKEND_TIMEOUT;
            case PROTOCOL -> CoreErrors.BACKEND_BAD_RESPONSE;
        };
    }

    /** The backend's own error message (TensorFlow Serving's {@code error} field), shortened, or nothing. */
    private static String backendDetail(Response answer) {
        byte[] body = answer.body().bytes();
        String text = new String(body, StandardCharsets.UTF_8);
        try {
            JsonNode json = Envelope.JSON.readTree(body);
            if (json != null && json.hasNonNull("error")) {
                text = json.get("error").asText();
            }
        } catch (IOException e) {
            // not JSON: the raw text is the detail
        }
        text = text.strip();
        if (text.isEmpty()) {
            return "";
        }
        return ": " + (text.length() > MAX_BACKEND_DETAIL ? text.substring(0, MAX_BACKEND_DETAIL) + "..." : text);
    }
}
