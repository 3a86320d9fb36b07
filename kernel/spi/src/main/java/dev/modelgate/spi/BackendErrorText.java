package dev.modelgate.spi;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.regex.Pattern;

/**
 * What a client may see of a backend's error body. A model server's 500 can carry a stack trace, an HTML page or
 * megabytes of text; clients get only the message field its protocol defines (TF Serving's and KServe v2's
 * {@code error}, OpenAI's {@code error.message}), cleaned and shortened. The whole body goes to the log at debug level
 * with the request id, for the operator.
 */
public final class BackendErrorText {

    /** The longest message passed on, in characters. */
    public static final int MAX_LENGTH = 200;

    /** The header the {@code request-id} middleware sets by default, to tie the logged body to the request. */
    private static final String REQUEST_ID_HEADER = "X-Request-Id";

    /**
     * Stack frames in the forms servers print them: Java ({@code at a.b.C.m(C.java:12)}, {@code ... 3 more}),
     * Python ({@code File "x.py", line 3, in f}) and Go ({@code /src/x.go:12 +0x1d}), with what follows on the line.
     */
    private static final Pattern STACK_FRAME = Pattern.compile(
            "\\bat [\\w$.<>/]+\\([^)]*\\)|\\.\\.\\. \\d+ (more|common frames omitted)"
                    + "|File \"[^\"]*\", line \\d+(, in [\\w<>.]+)?|Traceback \\(most recent call last\\):?"
                    + "|\\S+\\.go:\\d+( \\+0x\\p{XDigit}+)?");
    private static final Pattern CONTROL = Pattern.compile("[\\p{Cc}\\p{Cf}\\p{Zl}\\p{Zp}]+");
    private static final Pattern SPACES = Pattern.compile("\\s{2,}");

    private BackendErrorText() {
    }

    /**
     * The detail of a rejected or failed call for the client: {@code backend answered HTTP 500} and the backend's own
     * message when its protocol has one (see {@link #clientMessage(int, byte[], Exchange, System.Logger)}).
     */
    public static String detail(int status, byte[] body, Exchange exchange, System.Logger log) {
        String message = clientMessage(status, body, exchange, log);
        return "backend answered HTTP " + status + (message == null ? "" : ": " + message);
    }

    /**
     * The protocol's message field of a backend's error {@code body}, cleaned and shortened, or {@code null} when it
     * has none; the whole body goes to {@code log} at debug level with the request id.
     */
    public static String clientMessage(int status, byte[] body, Exchange exchange, System.Logger log) {
        if (log.isLoggable(System.Logger.Level.DEBUG)) {
            log.log(System.Logger.Level.DEBUG, "backend answered HTTP {0} to request {1}: {2}",
                    Integer.toString(status), exchange == null ? null : exchange.requestHeaders().first(REQUEST_ID_HEADER),
                    new String(body, StandardCharsets.UTF_8));
        }
        String message = messageField(body);
        if (message == null) {
            return null;
        }
        String cleaned = clean(message);
        return cleaned.isEmpty() ? null : cleaned;
    }

    /**
     * {@code text} with stack frames and control characters taken out and runs of white space made one space, at most
     * {@link #MAX_LENGTH} characters (then ending in {@code ...}).
     */
    public static String clean(String text) {
        String withoutFrames = STACK_FRAME.matcher(CONTROL.matcher(text).replaceAll(" ")).replaceAll(" ");
        String cleaned = SPACES.matcher(withoutFrames).replaceAll(" ").strip();
        if (cleaned.length() <= MAX_LENGTH) {
            return cleaned;
        }
        int end = MAX_LENGTH;
        if (Character.isHighSurrogate(cleaned.charAt(end - 1))) {
            end--;
        }
        return cleaned.substring(0, end) + "...";
    }

    /**
     * {@code error} as a string, or {@code error.message}, or the top-level {@code message} of an object whose
     * {@code object} is {@code "error"} (older vLLM servers' flat OpenAI error); anything else, or a body that is not
     * JSON, has none.
     */
    private static String messageField(byte[] body) {
        try (JsonParser parser = Json.MODEL_SERVER_FACTORY.createParser(body)) {
            if (parser.nextToken() != JsonToken.START_OBJECT) {
                return null;
            }
            String flatMessage = null;
            boolean errorObject = false;
            while (parser.nextToken() == JsonToken.FIELD_NAME) {
                String name = parser.currentName();
                JsonToken value = parser.nextToken();
                if (name.equals("error") && value == JsonToken.VALUE_STRING) {
                    return parser.getText();
                }
                if (name.equals("error") && value == JsonToken.START_OBJECT) {
                    return stringField(parser, "message");
                }
                if (value == JsonToken.VALUE_STRING && name.equals("message")) {
                    flatMessage = parser.getText();
                } else if (value == JsonToken.VALUE_STRING && name.equals("object")) {
                    errorObject = parser.getText().equals("error");
                } else {
                    parser.skipChildren();
                }
            }
            return errorObject ? flatMessage : null;
        } catch (IOException e) {
            // not JSON: no message field
        }
        return null;
    }

    /** The string field {@code wanted} of the object the parser has just entered, or {@code null}. */
    private static String stringField(JsonParser parser, String wanted) throws IOException {
        while (parser.nextToken() == JsonToken.FIELD_NAME) {
            String name = parser.currentName();
            JsonToken value = parser.nextToken();
            if (name.equals(wanted) && value == JsonToken.VALUE_STRING) {
                return parser.getText();
            }
            parser.skipChildren();
        }
        return null;
    }
}
