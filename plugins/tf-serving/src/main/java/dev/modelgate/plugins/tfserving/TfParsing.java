package dev.modelgate.plugins.tfserving;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.io.JsonEOFException;
import java.io.IOException;

/** The parser moves every TF Serving reader shares, for JSON and MessagePack alike. */
final class TfParsing {

    /** What to do with the members of an object, the parser on each member's value. */
    interface Members {

        void value(String name) throws IOException;

        /**
         * A member whose string value has already been consumed: the first member of an object that began as if it
         * were {@code {"b64": "..."}} but had more members.
         */
        void string(String name, String text);
    }

    private TfParsing() {
    }

    /**
     * The next token.
     *
     * @throws IOException when the input ends: JSON's parser says so itself, MessagePack's just returns no token
     */
    static JsonToken next(JsonParser parser) throws IOException {
        JsonToken token = parser.nextToken();
        if (token == null) {
            throw new JsonEOFException(parser, null, "unexpected end of input");
        }
        return token;
    }

    /** Calls {@code members} for each member of the object whose {@code START_OBJECT} is current. */
    static void forEachMember(JsonParser parser, Members members) throws IOException {
        while (next(parser) == JsonToken.FIELD_NAME) {
            String name = parser.currentName();
            next(parser);
            members.value(name);
        }
    }

    /**
     * Reads the object whose {@code START_OBJECT} is current either as a binary value or as named members, as TF
     * Serving tells them apart: an object with exactly one member, {@code "b64"}, holding a string is a value.
     *
     * @return the base64 text of a binary value, or {@code null} when the members were passed to {@code members}
     */
    static String readBase64OrMembers(JsonParser parser, Members members) throws IOException {
        if (next(parser) != JsonToken.FIELD_NAME) {
            return null;
        }
        String first = parser.currentName();
        if (next(parser) == JsonToken.VALUE_STRING && first.equals("b64")) {
            String text = parser.getText();
            if (next(parser) == JsonToken.END_OBJECT) {
                return text;
            }
            members.string(first, text);
        } else {
            members.value(first);
            next(parser);
        }
        while (parser.currentToken() == JsonToken.FIELD_NAME) {
            String name = parser.currentName();
            next(parser);
            members.value(name);
            next(parser);
        }
        return null;
    }
}
