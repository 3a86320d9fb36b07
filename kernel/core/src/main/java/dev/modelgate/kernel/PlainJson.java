package dev.modelgate.kernel;

/**
 * A quick scan that says "certainly well-formed" for the JSON the gateway forwards unparsed: the request bodies of
 * {@link PredictBodyCheck} and the backend answers {@link Envelope#wrapSuccess} wraps. Jackson's streaming parser
 * copies every number and string into its text buffer while skipping them; this scan only walks the bytes, about ten
 * times faster on a body of numbers (a 64 KB predict body: some 180 us of CPU with Jackson).
 *
 * <p>It accepts a strict subset of what Jackson accepts with the kernel's {@link dev.modelgate.spi.Json#FACTORY}:
 * RFC 8259 JSON in ASCII, with strings free of backslashes, and numbers, strings and nesting far below Jackson's
 * read constraints. Anything else (an escape, a non-ASCII byte, an error) makes it answer {@code false}, and the
 * caller asks Jackson, which stays the judge of every body the scan does not vouch for and writes its messages: so
 * the answers, errors included, are the same as with Jackson alone.
 *
 * <p>Stateless and thread-safe.
 */
final class PlainJson {

    /** Jackson refuses nesting past 1000 levels and numbers past 1000 characters; the scan leaves those to it. */
    private static final int MAX_DEPTH = 256;
    private static final int MAX_NUMBER_CHARS = 256;
    /** Jackson limits names to 50,000 characters and strings to 20 million: far away from this. */
    private static final int MAX_STRING_BYTES = 32 * 1024;
    private static final int NOT_PLAIN = -1;

    private final byte[] bytes;

    private PlainJson(byte[] bytes) {
        this.bytes = bytes;
    }

    /** Whether {@code bytes} is certainly exactly one well-formed JSON object, with nothing but whitespace after it. */
    static boolean isObject(byte[] bytes) {
        PlainJson json = new PlainJson(bytes);
        int start = json.skipSpace(0);
        return start < bytes.length && bytes[start] == '{' && json.endOfDocument(json.value(start, 0));
    }

    /**
     * Whether {@code bytes} is certainly a well-formed JSON object with exactly one member named {@code instances},
     * a non-empty array, or exactly one named {@code inputs}, not both: a predict body {@link PredictBodyCheck}
     * finds no fault with. {@code false} means "ask Jackson", not "faulty".
     */
    static boolean isPredictBody(byte[] bytes) {
        PlainJson json = new PlainJson(bytes);
        int at = json.skipSpace(0);
        if (at >= bytes.length || bytes[at] != '{') {
            return false;
        }
        int instances = 0;
        int inputs = 0;
        at = json.skipSpace(at + 1);
        while (at < bytes.length && bytes[at] == '"') {
            int nameEnd = json.string(at);
            if (nameEnd == NOT_PLAIN) {
                return false;
            }
            boolean isInstances = json.named(at, nameEnd, "instances");
            instances += isInstances ? 1 : 0;
            inputs += json.named(at, nameEnd, "inputs") ? 1 : 0;
            at = json.skipSpace(nameEnd);
            if (at >= bytes.length || bytes[at] != ':') {
                return false;
            }
            at = json.skipSpace(at + 1);
            if (isInstances && !json.nonEmptyArrayAt(at)) {
                return false;
            }
            at = json.value(at, 1);
            if (at == NOT_PLAIN) {
                return false;
            }
            at = json.skipSpace(at);
            if (at >= bytes.length || bytes[at] != ',') {
                break;
            }
            at = json.skipSpace(at + 1);
            if (at >= bytes.length || bytes[at] != '"') {
                return false;
            }
        }
        return at < bytes.length && bytes[at] == '}' && json.endOfDocument(at + 1) && instances + inputs == 1;
    }

    private boolean nonEmptyArrayAt(int at) {
        return at < bytes.length && bytes[at] == '[' && skipSpace(at + 1) < bytes.length
                && bytes[skipSpace(at + 1)] != ']';
    }

    /** Whether the string token {@code [start, end)} is {@code "name"}. */
    private boolean named(int start, int end, String name) {
        if (end - start != name.length() + 2) {
            return false;
        }
        for (int i = 0; i < name.length(); i++) {
            if (bytes[start + 1 + i] != name.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    private boolean endOfDocument(int at) {
        return at != NOT_PLAIN && skipSpace(at) == bytes.length;
    }

    /** The index after the value at {@code at} (no whitespace before it), or {@link #NOT_PLAIN}. */
    private int value(int at, int depth) {
        if (at < 0 || at >= bytes.length) {
            return NOT_PLAIN;
        }
        return switch (bytes[at]) {
            case '{' -> depth >= MAX_DEPTH ? NOT_PLAIN : object(at, depth + 1);
            case '[' -> depth >= MAX_DEPTH ? NOT_PLAIN : array(at, depth + 1);
            case '"' -> string(at);
            case 't' -> literal(at, "true");
            case 'f' -> literal(at, "false");
            case 'n' -> literal(at, "null");
            default -> number(at);
        };
    }

    private int object(int at, int depth) {
        at = skipSpace(at + 1);
        if (at < bytes.length && bytes[at] == '}') {
            return at + 1;
        }
        while (true) {
            if (at >= bytes.length || bytes[at] != '"') {
                return NOT_PLAIN;
            }
            at = string(at);
            if (at == NOT_PLAIN) {
                return NOT_PLAIN;
            }
            at = skipSpace(at);
            if (at >= bytes.length || bytes[at] != ':') {
                return NOT_PLAIN;
            }
            at = value(skipSpace(at + 1), depth);
            if (at == NOT_PLAIN) {
                return NOT_PLAIN;
            }
            at = skipSpace(at);
            if (at >= bytes.length) {
                return NOT_PLAIN;
            }
            if (bytes[at] == '}') {
                return at + 1;
            }
            if (bytes[at] != ',') {
                return NOT_PLAIN;
            }
            at = skipSpace(at + 1);
        }
    }

    private int array(int at, int depth) {
        at = skipSpace(at + 1);
        if (at < bytes.length && bytes[at] == ']') {
            return at + 1;
        }
        while (true) {
            at = value(at, depth);
            if (at == NOT_PLAIN) {
                return NOT_PLAIN;
            }
            at = skipSpace(at);
            if (at >= bytes.length) {
                return NOT_PLAIN;
            }
            if (bytes[at] == ']') {
                return at + 1;
            }
            if (bytes[at] != ',') {
                return NOT_PLAIN;
            }
            at = skipSpace(at + 1);
        }
    }

    /** A string of printable ASCII without escapes; the index after its closing quote. */
    private int string(int at) {
        int end = Math.min(bytes.length, at + 1 + MAX_STRING_BYTES);
        for (int i = at + 1; i < end; i++) {
            byte b = bytes[i];
            if (b == '"') {
                return i + 1;
            }
            if (b < 0x20 || b == '\\' || b == 0x7f) {
                return NOT_PLAIN;
            }
        }
        return NOT_PLAIN;
    }

    private int literal(int at, String word) {
        if (at + word.length() > bytes.length) {
            return NOT_PLAIN;
        }
        for (int i = 1; i < word.length(); i++) {
            if (bytes[at + i] != word.charAt(i)) {
                return NOT_PLAIN;
            }
        }
        return delimited(at + word.length());
    }

    /** {@code -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?}, as RFC 8259 and Jackson's defaults have it. */
    private int number(int at) {
        int i = at;
        if (i < bytes.length && bytes[i] == '-') {
            i++;
        }
        if (i < bytes.length && bytes[i] == '0') {
            i++;
        } else {
            int digits = digits(i);
            if (digits == i) {
                return NOT_PLAIN;
            }
            i = digits;
        }
        if (i < bytes.length && bytes[i] == '.') {
            int fraction = digits(i + 1);
            if (fraction == i + 1) {
                return NOT_PLAIN;
            }
            i = fraction;
        }
        if (i < bytes.length && (bytes[i] == 'e' || bytes[i] == 'E')) {
            i++;
            if (i < bytes.length && (bytes[i] == '+' || bytes[i] == '-')) {
                i++;
            }
            int exponent = digits(i);
            if (exponent == i) {
                return NOT_PLAIN;
            }
            i = exponent;
        }
        return i - at > MAX_NUMBER_CHARS ? NOT_PLAIN : delimited(i);
    }

    private int digits(int at) {
        // One unsigned comparison per byte: only '0' to '9' land below 10.
        while (at < bytes.length && (bytes[at] - '0' & 0xff) < 10) {
            at++;
        }
        return at;
    }

    /** {@code at}, when a token may end there (Jackson refuses {@code 1true}, {@code nullx}); else not plain. */
    private int delimited(int at) {
        if (at == bytes.length) {
            return at;
        }
        return switch (bytes[at]) {
            case ',', ']', '}', ' ', '\t', '\n', '\r' -> at;
            default -> NOT_PLAIN;
        };
    }

    /** The first index from {@code at} that is not whitespace; {@code at} itself in compact JSON, checked first. */
    private int skipSpace(int at) {
        while (at < bytes.length) {
            byte b = bytes[at];
            if (b > ' ' || b != ' ' && b != '\n' && b != '\r' && b != '\t') {
                return at;
            }
            at++;
        }
        return at;
    }
}
