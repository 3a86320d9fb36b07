package dev.modelgate.plugins.tracecontext;

import java.util.HexFormat;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A W3C Trace Context {@code traceparent} (version 00): {@code 00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>},
 * lower case, the ids not all zeros.
 *
 * @param traceId 32 lower-case hex digits
 * @param parentId 16 lower-case hex digits: the span of whoever sends the header
 * @param flags 2 lower-case hex digits ({@code 01}: sampled)
 */
record TraceParent(String traceId, String parentId, String flags) {

    private static final HexFormat HEX = HexFormat.of();
    private static final String ZERO_TRACE = "0".repeat(32);
    private static final String ZERO_SPAN = "0".repeat(16);

    /** The header's trace, or {@code null} when it is absent or not a valid version 00 {@code traceparent}. */
    static TraceParent parse(String header) {
        if (header == null) {
            return null;
        }
        String value = header.strip();
        if (value.length() != 55 || !value.startsWith("00-") || value.charAt(35) != '-' || value.charAt(52) != '-') {
            return null;
        }
        String traceId = value.substring(3, 35);
        String parentId = value.substring(36, 52);
        String flags = value.substring(53);
        if (!lowerHex(traceId) || !lowerHex(parentId) || !lowerHex(flags) || traceId.equals(ZERO_TRACE)
                || parentId.equals(ZERO_SPAN)) {
            return null;
        }
        return new TraceParent(traceId, parentId, flags);
    }

    /** A new trace, not sampled unless a span exporter (opentelemetry) samples it. */
    static TraceParent start() {
        return new TraceParent(randomHex(2, ZERO_TRACE), randomHex(1, ZERO_SPAN), "00");
    }

    /** The same trace with a new span of the gateway's as the parent, for the call to the backend. */
    TraceParent child() {
        return new TraceParent(traceId, randomHex(1, ZERO_SPAN), flags);
    }

    private static boolean lowerHex(String text) {
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (!(c >= '0' && c <= '9' || c >= 'a' && c <= 'f')) {
                return false;
            }
        }
        return true;
    }

    /** {@code longs} random longs as hex, never {@code zero} (an id of all zeros is invalid). */
    private static String randomHex(int longs, String zero) {
        ThreadLocalRandom random = ThreadLocalRandom.current();
        String id;
        do {
            StringBuilder hex = new StringBuilder(16 * longs);
            for (int i = 0; i < longs; i++) {
                hex.append(HEX.toHexDigits(random.nextLong()));
            }
            id = hex.toString();
        } while (id.equals(zero));
        return id;
    }
}
