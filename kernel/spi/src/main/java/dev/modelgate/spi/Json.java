package dev.modelgate.spi;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.core.json.JsonWriteFeature;
import com.fasterxml.jackson.core.util.JsonRecyclerPools;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * The Jackson instances the kernel uses, for plugins to share. Thread-safe.
 *
 * <p>Jackson recycles its parse and write buffers per thread by default; with a new virtual thread per request that
 * recycles nothing and every parse allocates fresh buffers. These instances use one shared, bounded pool instead.
 */
public final class Json {

    public static final JsonFactory FACTORY = JsonFactory.builder()
            .recyclerPool(JsonRecyclerPools.sharedBoundedPool())
            .build();

    /**
     * JSON as model servers write it: TF Serving and Triton read and write {@code NaN}, {@code Infinity} and
     * {@code -Infinity} as bare tokens, which strict JSON has no room for. For codecs of their dialects.
     */
    public static final JsonFactory MODEL_SERVER_FACTORY = JsonFactory.builder()
            .recyclerPool(JsonRecyclerPools.sharedBoundedPool())
            .enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
            .disable(JsonWriteFeature.WRITE_NAN_AS_STRINGS)
            .build();

    /** Rejects trailing content after the first JSON value, so {@code {"a":1} xx} is malformed. */
    public static final ObjectMapper MAPPER = new ObjectMapper(FACTORY)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    /** Jackson's quote of a location inside a message: {@code [Source: REDACTED (...); line: 1, column: 9]}. */
    private static final java.util.regex.Pattern SOURCE =
            java.util.regex.Pattern.compile("\\[Source: .*?; line: (\\d+), column: (\\d+)]");
    /** Jackson's hints naming its own options: {@code : enable `JsonReadFeature.X` to allow}, {@code (`...` disabled)}. */
    private static final java.util.regex.Pattern OPTION = java.util.regex.Pattern.compile(
            "[:;,]?\\s*\\(?\\s*(?:(?:to )?(?:enable|disable)\\s+)?`?\\w+Feature\\.[A-Z_]+`?"
                    + "(?:\\s+(?:to allow|disabled|enabled))?\\s*\\)?");

    private Json() {
    }

    /**
     * What a client should read of a parse failure: Jackson's message without its option names and source quotes,
     * and where the problem is ({@code at line 1, column 9}) when known. For 20001 and codecs' syntax errors.
     */
    public static String problem(com.fasterxml.jackson.core.JacksonException e) {
        String message = String.valueOf(e.getOriginalMessage());
        message = SOURCE.matcher(message).replaceAll("line $1, column $2");
        message = OPTION.matcher(message).replaceAll("").strip();
        com.fasterxml.jackson.core.JsonLocation location = e.getLocation();
        return location == null || location.getLineNr() < 1 ? message
                : message + " at line " + location.getLineNr() + ", column " + location.getColumnNr();
    }
}
