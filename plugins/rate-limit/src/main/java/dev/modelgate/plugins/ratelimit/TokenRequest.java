package dev.modelgate.plugins.ratelimit;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import dev.modelgate.spi.Json;
import java.io.IOException;

/**
 * The tokens an LLM call reserves before it runs: its top-level {@code max_completion_tokens} or
 * {@code max_tokens} (the newer name wins), times its {@code n} choices; the configured estimate when it sets
 * neither, or is not a JSON object (the backend refuses it then, and the reservation is given back). Read with the
 * streaming parser, without building a tree.
 */
final class TokenRequest {

    /** More choices than this are counted as this many: no upstream serves more, and the product stays small. */
    private static final int MAX_CHOICES = 128;

    private TokenRequest() {
    }

    static long reservation(byte[] body, long estimate) {
        long maxTokens = -1;
        long maxCompletionTokens = -1;
        long choices = 1;
        try (JsonParser parser = Json.FACTORY.createParser(body)) {
            if (parser.nextToken() != JsonToken.START_OBJECT) {
                return estimate;
            }
            while (parser.nextToken() == JsonToken.FIELD_NAME) {
                String name = parser.currentName();
                JsonToken value = parser.nextToken();
                if (value == JsonToken.VALUE_NUMBER_INT && parser.getLongValue() >= 0) {
                    switch (name) {
                        case "max_tokens" -> maxTokens = parser.getLongValue();
                        case "max_completion_tokens" -> maxCompletionTokens = parser.getLongValue();
                        case "n" -> choices = Math.clamp(parser.getLongValue(), 1, MAX_CHOICES);
                        default -> {
                            // another number: not about tokens
                        }
                    }
                } else {
                    parser.skipChildren();
                }
            }
        } catch (JacksonException e) {
            return estimate;
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        long perChoice = maxCompletionTokens >= 0 ? maxCompletionTokens : maxTokens;
        return perChoice < 0 ? estimate : Math.multiplyExact(Math.min(perChoice, Integer.MAX_VALUE), choices);
    }
}
