package dev.modelgate.plugins.kservev2;

import static dev.modelgate.plugins.kservev2.WireReader.invalid;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import dev.modelgate.spi.CoreErrors;
import dev.modelgate.spi.inference.ItemError;
import dev.modelgate.spi.inference.RequestedOutput;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The header of an inference request or response as read, before its binary tensors are resolved:
 * {@code {"id"?, "parameters"?, "inputs", "outputs"?}} for a request, {@code {"model_name", "model_version"?, "id"?,
 * "parameters"?, "outputs"}} for a response.
 *
 * @param model the response's {@code model_name}; {@code null} for a request or when absent
 * @param version the response's {@code model_version}, or {@code null}
 * @param id the message id, or {@code null}
 * @param tensors a request's inputs or a response's outputs; {@code null} when absent
 * @param outputs the outputs a request asks for; empty for a response
 * @param itemErrors a response's {@code item_errors}: the items the backend failed while it answered the others
 */
record Message(String model, String version, String id, Map<String, Object> parameters, List<WireTensor> tensors,
        List<RequestedOutput> outputs, List<ItemError> itemErrors) {

    /** Reads a request ({@code request}) or a response from the parser positioned on its first token. */
    static Message read(JsonParser parser, boolean request) throws IOException {
        String what = request ? "the request" : "the response";
        WireReader.expect(parser, JsonToken.START_OBJECT, what, "an object");
        String model = null;
        String version = null;
        String id = null;
        Map<String, Object> parameters = Map.of();
        List<WireTensor> tensors = null;
        List<RequestedOutput> outputs = List.of();
        List<ItemError> itemErrors = List.of();
        while (parser.nextToken() == JsonToken.FIELD_NAME) {
            String field = parser.currentName();
            parser.nextToken();
            switch (field) {
                case "id" -> id = WireReader.text(parser, "id");
                case "parameters" -> parameters = WireReader.parameters(parser, "parameters");
                case "model_name" -> model = WireReader.text(parser, "model_name");
                case "model_version" -> version = WireReader.text(parser, "model_version");
                case "inputs" -> {
                    if (request) {
                        tensors = WireReader.tensors(parser, "inputs");
                    } else {
                        parser.skipChildren();
                    }
                }
                case "outputs" -> {
                    if (request) {
                        outputs = requestedOutputs(parser);
                    } else {
                        tensors = WireReader.tensors(parser, "outputs");
                    }
                }
                case "item_errors" -> {
                    if (request) {
                        parser.skipChildren();
                    } else {
                        itemErrors = itemErrors(parser);
                    }
                }
                default -> parser.skipChildren();
            }
        }
        return new Message(model, version, id, parameters, tensors, outputs, itemErrors);
    }

    /**
     * A response's {@code item_errors}, the gateway's extension of the protocol for a backend that answers a batch
     * per item: {@code [{"index": 2, "status": 400, "message": "..."}]}, where {@code index} is the failed item's
     * position along the first dimension and {@code status} the HTTP status the item alone would have had (a 4xx is
     * the item's fault, 40006; anything else, or none, the backend's, 40005).
     */
    private static List<ItemError> itemErrors(JsonParser parser) throws IOException {
        WireReader.expect(parser, JsonToken.START_ARRAY, "item_errors", "an array");
        List<ItemError> errors = new ArrayList<>();
        while (parser.nextToken() != JsonToken.END_ARRAY) {
            String where = "item_errors[" + errors.size() + "]";
            WireReader.expect(parser, JsonToken.START_OBJECT, where, "an object");
            long index = -1;
            int status = 500;
            String message = null;
            while (parser.nextToken() == JsonToken.FIELD_NAME) {
                String field = parser.currentName();
                parser.nextToken();
                switch (field) {
                    case "index" -> index = integer(parser, where + ".index", Integer.MAX_VALUE);
                    case "status" -> status = (int) integer(parser, where + ".status", 599);
                    case "message" -> message = WireReader.text(parser, where + ".message");
                    default -> parser.skipChildren();
                }
            }
            if (index < 0) {
                throw invalid(where + ": missing 'index'");
            }
            errors.add(new ItemError((int) index, CoreErrors.ofBackendStatus(status), message));
        }
        return errors;
    }

    private static long integer(JsonParser parser, String where, long max) throws IOException {
        if (parser.currentToken() != JsonToken.VALUE_NUMBER_INT || parser.getNumberType() != JsonParser.NumberType.INT
                || parser.getIntValue() < 0 || parser.getIntValue() > max) {
            throw invalid(where + " must be an integer from 0 to " + max);
        }
        return parser.getIntValue();
    }

    private static List<RequestedOutput> requestedOutputs(JsonParser parser) throws IOException {
        WireReader.expect(parser, JsonToken.START_ARRAY, "outputs", "an array");
        List<RequestedOutput> outputs = new ArrayList<>();
        while (parser.nextToken() != JsonToken.END_ARRAY) {
            String where = "outputs[" + outputs.size() + "]";
            WireReader.expect(parser, JsonToken.START_OBJECT, where, "an object");
            String name = null;
            Map<String, Object> parameters = Map.of();
            while (parser.nextToken() == JsonToken.FIELD_NAME) {
                String field = parser.currentName();
                parser.nextToken();
                switch (field) {
                    case "name" -> name = WireReader.text(parser, where + ".name");
                    case "parameters" -> parameters = WireReader.parameters(parser, where + ".parameters");
                    default -> parser.skipChildren();
                }
            }
            if (name == null) {
                throw invalid(where + ": missing 'name'");
            }
            outputs.add(new RequestedOutput(name, parameters));
        }
        return outputs;
    }
}
