package dev.modelgate.plugins.kservev2;

import static dev.modelgate.plugins.kservev2.WireReader.invalid;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
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
 */
record Message(String model, String version, String id, Map<String, Object> parameters, List<WireTensor> tensors,
        List<RequestedOutput> outputs) {

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
                default -> parser.skipChildren();
            }
        }
        return new Message(model, version, id, parameters, tensors, outputs);
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
