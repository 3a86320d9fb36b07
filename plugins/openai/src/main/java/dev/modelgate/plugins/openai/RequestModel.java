package dev.modelgate.plugins.openai;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import dev.modelgate.spi.CoreErrors;
import dev.modelgate.spi.Json;
import dev.modelgate.spi.RejectionException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * The top-level {@code model} of an OpenAI request body, read with Jackson's streaming parser (the body is walked
 * once, never held as a tree), and where its value lies, so that an alias can be replaced in the bytes.
 *
 * @param model the model the client named
 * @param start the offset of the value's opening quote
 * @param end the offset just past the value's closing quote
 */
record RequestModel(String model, int start, int end) {

    /**
     * Reads {@code body}, which must be one JSON object with a string {@code model}.
     *
     * @throws RejectionException 20001 for a body that is not JSON, 20051 for one that is not an object, 20050 when
     *     {@code model} is missing, empty or not a string
     */
    static RequestModel read(byte[] body) {
        try (JsonParser parser = Json.FACTORY.createParser(body)) {
            if (parser.nextToken() != JsonToken.START_OBJECT) {
                throw new RejectionException(OpenAiErrors.NOT_AN_OBJECT, null);
            }
            RequestModel found = null;
            while (parser.nextToken() == JsonToken.FIELD_NAME) {
                String name = parser.currentName();
                JsonToken value = parser.nextToken();
                if (name.equals("model") && value == JsonToken.VALUE_STRING && !parser.getText().isEmpty()) {
                    found = new RequestModel(parser.getText(), (int) parser.currentTokenLocation().getByteOffset(),
                            (int) parser.currentLocation().getByteOffset());
                } else {
                    parser.skipChildren();
                }
            }
            // Reads to the end, so that a body with trailing garbage is refused too.
            while (parser.nextToken() != null) {
                parser.skipChildren();
            }
            if (found == null) {
                throw new RejectionException(OpenAiErrors.NO_MODEL, "give 'model' as a non-empty string");
            }
            return found;
        } catch (JacksonException e) {
            throw new RejectionException(CoreErrors.MALFORMED_JSON, Json.problem(e));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** {@code body} with this model's value replaced by {@code other}. */
    byte[] replaceIn(byte[] body, String other) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(body.length + other.length());
        out.write(body, 0, start);
        try {
            out.write(Json.MAPPER.writeValueAsBytes(other));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        out.write(body, end, body.length - end);
        return out.toByteArray();
    }
}
