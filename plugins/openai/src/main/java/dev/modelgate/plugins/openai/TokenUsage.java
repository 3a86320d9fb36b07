package dev.modelgate.plugins.openai;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import dev.modelgate.spi.Json;
import java.io.IOException;

/**
 * The {@code usage} of an OpenAI answer or stream chunk: what the tokens of a call cost. Read with the streaming
 * parser; an answer without it (or not JSON) has none.
 *
 * @param promptTokens {@code usage.prompt_tokens}
 * @param completionTokens {@code usage.completion_tokens} (0 for embeddings)
 * @param usageOnly whether the object's {@code choices} is empty: the chunk that only reports a stream's usage
 */
record TokenUsage(long promptTokens, long completionTokens, boolean usageOnly) {

    /** The top-level {@code usage} object of {@code json}, or {@code null} when it has none. */
    static TokenUsage of(byte[] json, int offset, int length) {
        try (JsonParser parser = Json.MODEL_SERVER_FACTORY.createParser(json, offset, length)) {
            if (parser.nextToken() != JsonToken.START_OBJECT) {
                return null;
            }
            long[] tokens = null;
            boolean noChoices = false;
            while (parser.nextToken() == JsonToken.FIELD_NAME) {
                String name = parser.currentName();
                JsonToken value = parser.nextToken();
                if (value == JsonToken.START_OBJECT && name.equals("usage")) {
                    tokens = read(parser);
                } else if (value == JsonToken.START_ARRAY && name.equals("choices")) {
                    JsonToken first = parser.nextToken();
                    noChoices = first == JsonToken.END_ARRAY;
                    for (JsonToken item = first; item != null && item != JsonToken.END_ARRAY;
                            item = parser.nextToken()) {
                        parser.skipChildren();
                    }
                } else {
                    parser.skipChildren();
                }
            }
            return tokens == null ? null : new TokenUsage(tokens[0], tokens[1], noChoices);
        } catch (IOException e) {
            // not JSON: no usage
        }
        return null;
    }

    /** The prompt and completion tokens of the {@code usage} object the parser has just entered. */
    private static long[] read(JsonParser parser) throws IOException {
        long prompt = 0;
        long completion = 0;
        while (parser.nextToken() == JsonToken.FIELD_NAME) {
            String name = parser.currentName();
            JsonToken value = parser.nextToken();
            if (value == JsonToken.VALUE_NUMBER_INT && name.equals("prompt_tokens")) {
                prompt = parser.getLongValue();
            } else if (value == JsonToken.VALUE_NUMBER_INT && name.equals("completion_tokens")) {
                completion = parser.getLongValue();
            } else {
                parser.skipChildren();
            }
        }
        return new long[] {prompt, completion};
    }
}
