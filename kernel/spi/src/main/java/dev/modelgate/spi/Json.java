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

    private Json() {
    }
}
