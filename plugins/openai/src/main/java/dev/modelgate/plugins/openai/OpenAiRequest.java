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
import java.nio.charset.StandardCharsets;

/**
 * What the gateway reads of an OpenAI request body, with Jackson's streaming parser (the body is walked once, never
 * held as a tree): the top-level {@code model} and where its value lies, so that an alias can be replaced in the
 * bytes, and whether the client asks for a stream and set {@code stream_options}.
 *
 * @param model the model the client named
 * @param objectStart the offset of the body's opening brace
 * @param modelStart the offset of the model value's opening quote
 * @param modelEnd the offset just past the model value's closing quote
 * @param stream whether {@code stream} is {@code true}
 * @param streamOptions whether the body has {@code stream_options}, even null
 */
record OpenAiRequest(String model, int objectStart, int modelStart, int modelEnd, boolean stream,
        boolean streamOptions) {

    private static final byte[] INCLUDE_USAGE =
            "\"stream_options\":{\"include_usage\":true},".getBytes(StandardCharsets.US_ASCII);

    /**
     * Reads {@code body}, which must be one JSON object with a string {@code model}.
     *
     * @throws RejectionException 20001 for a body that is not JSON, 20051 for one that is not an object, 20050 when
     *     {@code model} is missing, empty or not a string
     */
    static OpenAiRequest read(byte[] body) {
        try (JsonParser parser = Json.FACTORY.createParser(body)) {
            if (parser.nextToken() != JsonToken.START_OBJECT) {
                throw new RejectionException(OpenAiErrors.NOT_AN_OBJECT, null);
            }
            int objectStart = (int) parser.currentTokenLocation().getByteOffset();
            String model = null;
            int modelStart = -1;
            int modelEnd = -1;
            boolean stream = false;
            boolean streamOptions = false;
            while (parser.nextToken() == JsonToken.FIELD_NAME) {
                String name = parser.currentName();
                JsonToken value = parser.nextToken();
                if (name.equals("model") && value == JsonToken.VALUE_STRING && !parser.getText().isEmpty()) {
                    model = parser.getText();
                    modelStart = (int) parser.currentTokenLocation().getByteOffset();
                    modelEnd = (int) parser.currentLocation().getByteOffset();
                } else if (name.equals("stream")) {
                    stream = value == JsonToken.VALUE_TRUE;
                } else {
                    // Even null: a key added beside the client's own would be a duplicate.
                    streamOptions |= name.equals("stream_options");
                    parser.skipChildren();
                }
            }
            // Reads to the end, so that a body with trailing garbage is refused too.
            while (parser.nextToken() != null) {
                parser.skipChildren();
            }
            if (model == null) {
                throw new RejectionException(OpenAiErrors.NO_MODEL, "give 'model' as a non-empty string");
            }
            return new OpenAiRequest(model, objectStart, modelStart, modelEnd, stream, streamOptions);
        } catch (JacksonException e) {
            throw new RejectionException(CoreErrors.MALFORMED_JSON, Json.problem(e));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Whether the gateway may ask for a stream's usage itself: a stream whose client set no stream options. */
    boolean usageMayBeAdded() {
        return stream && !streamOptions;
    }

    /**
     * The body the upstream gets: {@code body} with the model's value replaced by {@code upstreamModel}, and with
     * {@code stream_options.include_usage} asked for when {@code addUsage}; the client's bytes when nothing changes.
     */
    byte[] forwarded(byte[] body, String upstreamModel, boolean addUsage) {
        if (!addUsage && upstreamModel.equals(model)) {
            return body;
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(body.length + INCLUDE_USAGE.length
                + upstreamModel.length());
        out.write(body, 0, objectStart + 1);
        if (addUsage) {
            out.writeBytes(INCLUDE_USAGE);
        }
        if (upstreamModel.equals(model)) {
            // Only the usage is asked for: the rest goes as the client wrote it, in one piece.
            out.write(body, objectStart + 1, body.length - objectStart - 1);
            return out.toByteArray();
        }
        out.write(body, objectStart + 1, modelStart - objectStart - 1);
        try {
            out.write(Json.MAPPER.writeValueAsBytes(upstreamModel));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        out.write(body, modelEnd, body.length - modelEnd);
        return out.toByteArray();
    }
}
