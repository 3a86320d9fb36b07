package dev.modelgate.kernel;

import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import dev.modelgate.spi.CoreErrors;
import dev.modelgate.spi.Exchange;
import dev.modelgate.spi.RejectionException;
import java.io.IOException;

/** The gateway API's check of a TensorFlow Serving predict body it forwards unparsed. Stateless. */
final class PredictBodyCheck {

    private static final String JSON = "application/json";

    private PredictBodyCheck() {
    }

    /**
     * The gateway's API promises its own codes for a predict body that is not a TensorFlow Serving request; on the
     * proxy path a streaming pass over the top-level keys checks that, without building a tree: {@link PlainJson}'s
     * quick scan for the usual body, Jackson's parser for any other and for the message of a faulty one.
     */
    static void check(Exchange exchange, String mediaType) {
        if (!mediaType.isEmpty() && !mediaType.equals(JSON)) {
            throw new RejectionException(CoreErrors.UNSUPPORTED_MEDIA_TYPE,
                    "expected application/json, but was " + exchange.requestHeaders().first("Content-Type"));
        }
        byte[] body = exchange.body();
        if (body.length == 0) {
            throw new RejectionException(CoreErrors.MALFORMED_JSON, "the body is empty");
        }
        if (PlainJson.isPredictBody(body)) {
            return;
        }
        String problem;
        try (JsonParser parser = Envelope.JSON.getFactory().createParser(body)) {
            problem = predictRequestProblem(parser);
            if (problem == null && parser.nextToken() != null) {
                throw new JsonParseException(parser, "trailing content after the JSON object");
            }
        } catch (JsonParseException e) {
            throw Envelope.malformed(e);
        } catch (IOException e) {
            throw new RejectionException(CoreErrors.MALFORMED_JSON, e.getMessage());
        }
        if (problem != null) {
            throw new RejectionException(CoreErrors.INVALID_PREDICT_REQUEST, problem);
        }
    }

    /** Why the body is not a TensorFlow Serving predict request, or {@code null}; reads the whole value. */
    private static String predictRequestProblem(JsonParser parser) throws IOException {
        if (parser.nextToken() != JsonToken.START_OBJECT) {
            parser.skipChildren();
            return "the body must be a JSON object with 'instances' or 'inputs'";
        }
        boolean rows = false;
        boolean columns = false;
        String problem = null;
        while (parser.nextToken() == JsonToken.FIELD_NAME) {
            String name = parser.currentName();
            JsonToken value = parser.nextToken();
            if (name.equals("instances")) {
                rows = true;
                if (value != JsonToken.START_ARRAY) {
                    problem = "'instances' must be a list";
                } else if (parser.nextToken() == JsonToken.END_ARRAY) {
                    problem = "'instances' must not be empty";
                    continue;
                } else {
                    do {
                        parser.skipChildren();
                    } while (parser.nextToken() != JsonToken.END_ARRAY);
                    continue;
                }
            } else if (name.equals("inputs")) {
                columns = true;
            }
            parser.skipChildren();
        }
        if (rows == columns) {
            return rows ? "give either 'instances' or 'inputs', not both" : "the body needs 'instances' or 'inputs'";
        }
        return problem;
    }
}
