package dev.modelgate.kernel;

import dev.modelgate.spi.CoreErrors;
import dev.modelgate.spi.ErrorCode;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * RFC 9112's grammar for a stream of HTTP/1.1 requests, checked byte by byte before Undertow's lenient parser sees
 * them: the request line, every header line, the framing headers ({@code Content-Length}, {@code Transfer-Encoding},
 * {@code Host}) once the head is complete, and the chunked body's own framing. It also tells where each message ends,
 * so that no byte of the next request is handed over while this one is served.
 *
 * <p>One instance per connection, used on its IO thread only. {@link #scan} accepts a prefix of the bytes offered and
 * stops at the first invalid byte (then {@link #refusal()} says why) or at the end of a message.
 */
final class Http1Framing {

    /** The request limits checked on the head: bytes of request line and headers, header lines, target length. */
    record Limits(int maxHeaderBytes, int maxHeaderCount, int maxTargetLength) {
    }

    private enum State {
        METHOD, TARGET, VERSION, REQUEST_LINE_LF,
        LINE_START, NAME, VALUE, VALUE_LF, HEAD_END_LF,
        FIXED_BODY,
        CHUNK_SIZE, CHUNK_BWS, CHUNK_EXTENSION, CHUNK_SIZE_LF, CHUNK_DATA, CHUNK_DATA_CR, CHUNK_DATA_LF,
        TRAILER_START, TRAILER_NAME, TRAILER_VALUE, TRAILER_VALUE_LF, TRAILER_END_LF
    }

    private static final boolean[] TOKEN = new boolean[256];
    /** RFC 3986 characters of a request target: unreserved, reserved but for '#', and '%'. */
    private static final boolean[] TARGET = new boolean[256];
    private static final int MAX_CHUNK_SIZE_DIGITS = 15;
    /** Characters of RFC 3986's reg-name (unreserved, sub-delims and '%'), the host part of most Host headers. */
    private static final boolean[] REG_NAME = new boolean[256];
    /** Characters of an IPv6 literal between its brackets. */
    private static final boolean[] IP_LITERAL = new boolean[256];
    private static final int MAX_PORT_DIGITS = 5;
    private static final int MAX_CONTENT_LENGTH_DIGITS = 18;
    private static final boolean[] DIGIT = new boolean[256];

    static {
        for (char c : "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".toCharArray()) {
            TOKEN[c] = true;
        }
        for (char c : "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~:/?[]@!$&'()*+,;=%"
                .toCharArray()) {
            TARGET[c] = true;
        }
        for (char c : "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()*+,;=%".toCharArray()) {
            REG_NAME[c] = true;
        }
        for (char c = '0'; c <= '9'; c++) {
            DIGIT[c] = true;
        }
        for (char c : "0123456789ABCDEFabcdef:.".toCharArray()) {
            IP_LITERAL[c] = true;
        }
    }

    private static final int SCRATCH_BYTES = 1024;
    /** Where each IO thread copies the head bytes it checks: one bulk copy instead of a checked read per byte. */
    private static final ThreadLocal<byte[]> SCRATCH = ThreadLocal.withInitial(() -> new byte[SCRATCH_BYTES]);
    private static final byte[] HOST_NAME = "host".getBytes(StandardCharsets.ISO_8859_1);
    private static final byte[] CONTENT_LENGTH_NAME = "content-length".getBytes(StandardCharsets.ISO_8859_1);
    private static final byte[] TRANSFER_ENCODING_NAME = "transfer-encoding".getBytes(StandardCharsets.ISO_8859_1);
    private static final byte[] HTTP_1_1 = "HTTP/1.1".getBytes(StandardCharsets.ISO_8859_1);
    private static final byte[] HTTP_1_0 = "HTTP/1.0".getBytes(StandardCharsets.ISO_8859_1);

    private final Limits limits;
    private State state = State.METHOD;
    private Refusal refusal;
    private int headBytes;
    private int headerCount;
    private int targetLength;
    private byte[] target = new byte[64];
    /** The request line's version, at most {@code HTTP/1.1}'s eight bytes. */
    private final byte[] version = new byte[8];
    private int versionLength;
    private byte[] name = new byte[32];
    private int nameLength;
    /** The value being read, kept only for the headers that decide framing ({@code keepingValue}). */
    private byte[] value = new byte[32];
    private int valueLength;
    private boolean keepingValue;
    private final List<String> contentLengths = new ArrayList<>();
    private final List<String> transferEncodings = new ArrayList<>();
    private final List<String> hosts = new ArrayList<>();
    private long remaining;
    private int chunkSizeDigits;

    Http1Framing(Limits limits) {
        this.limits = limits;
    }

    /** Why the stream was refused, or {@code null} while it is valid. */
    Refusal refusal() {
        return refusal;
    }

    /** The request target of the message being read, as far as it was read (to pick the front of an error). */
    String target() {
        return new String(target, 0, targetLength, StandardCharsets.ISO_8859_1);
    }

    /** Whether no byte of a message has been accepted since the last one ended. */
    boolean betweenMessages() {
        return state == State.METHOD && headBytes == 0;
    }

    /** Whether the bytes now are a body's data (a fixed-length body or a chunk's), skipped unchecked. */
    private boolean inData() {
        return state == State.FIXED_BODY || state == State.CHUNK_DATA;
    }

    /** Whether the message's head was accepted and its body, if any, is being read. */
    boolean inBody() {
        return state.ordinal() >= State.FIXED_BODY.ordinal();
    }

    /**
     * Checks bytes from {@code bytes}' position up to at most {@code max} of them, without moving the position.
     *
     * @return how many are valid and belong to the current message; fewer than offered when a message ends (the rest
     *     belongs to the next one) or a byte is invalid ({@link #refusal()} is then set)
     */
    int scan(ByteBuffer bytes, int max) {
        if (refusal != null) {
            return 0;
        }
        int start = bytes.position();
        int end = start + Math.min(max, bytes.remaining());
        int i = start;
        while (i < end) {
            if (inData()) {
                int run = (int) Math.min(remaining, end - i);
                remaining -= run;
                i += run;
                if (remaining == 0) {
                    if (state == State.FIXED_BODY) {
                        endMessage();
                        return i - start;
                    }
                    state = State.CHUNK_DATA_CR;
                }
                continue;
            }
            byte[] scratch = SCRATCH.get();
            int count = Math.min(end - i, scratch.length);
            bytes.get(i, scratch, 0, count);
            int taken = scanHead(scratch, count);
            i += taken;
            if (refusal != null || taken > 0 && betweenMessages()) {
                return i - start;
            }
        }
        return end - start;
    }

    /**
     * Takes the first {@code count} bytes of {@code bytes} as far as they are a head, a chunk line or a trailer:
     * stops at a body's data, at the end of a message, or at a refused byte (not taken).
     *
     * @return how many were taken
     */
    private int scanHead(byte[] bytes, int count) {
        int i = 0;
        while (i < count) {
            if (inData()) {
                return i;
            }
            // Runs of bytes that change nothing but a count or the text kept are taken in one step.
            int run = plainRun(bytes, i, i + Math.min(count - i, limits.maxHeaderBytes() - headBytes));
            if (run > 0) {
                keepRun(bytes, i, run);
                headBytes += run;
                i += run;
                continue;
            }
            if (!accept(bytes[i] & 0xff)) {
                return i;
            }
            i++;
            if (betweenMessages()) {
                return i;
            }
        }
        return count;
    }

    /** How many bytes from {@code from} (up to {@code to}) the current state takes without changing. */
    private int plainRun(byte[] bytes, int from, int to) {
        int i = from;
        switch (state) {
            case METHOD, NAME, TRAILER_NAME -> {
                while (i < to && TOKEN[bytes[i] & 0xff]) {
                    i++;
                }
            }
            case TARGET -> {
                to = from + Math.min(to - from, limits.maxTargetLength() - targetLength);
                while (i < to && TARGET[bytes[i] & 0xff]) {
                    i++;
                }
            }
            case VALUE, TRAILER_VALUE, CHUNK_EXTENSION -> {
                while (i < to && isValueByte(bytes[i] & 0xff)) {
                    i++;
                }
            }
            case VERSION -> {
                to = from + Math.min(to - from, version.length - versionLength);
                while (i < to && bytes[i] > ' ' && bytes[i] != 0x7f) { // signed: bytes from 0x80 stop the run too
                    i++;
                }
            }
            default -> {
                return 0;
            }
        }
        return i - from;
    }

    /** A byte a field value (or a chunk extension) may hold: visible, a space or a tab. */
    private static boolean isValueByte(int b) {
        return b >= ' ' && b != 0x7f || b == '\t';
    }

    /** Keeps what a {@link #plainRun} holds that is kept: the target, a field name, a framing header's value. */
    private void keepRun(byte[] bytes, int from, int length) {
        switch (state) {
            case TARGET -> {
                target = append(target, targetLength, bytes, from, length);
                targetLength += length;
            }
            case NAME, TRAILER_NAME -> {
                name = append(name, nameLength, bytes, from, length);
                nameLength += length;
            }
            case VALUE -> {
                if (keepingValue) {
                    value = append(value, valueLength, bytes, from, length);
                    valueLength += length;
                }
            }
            case VERSION -> {
                System.arraycopy(bytes, from, version, versionLength, length);
                versionLength += length;
            }
            default -> {
                // counted only
            }
        }
    }

    /** {@code into}, or a larger copy of it, with {@code length} bytes of {@code bytes} put at {@code at}. */
    private static byte[] append(byte[] into, int at, byte[] bytes, int from, int length) {
        byte[] kept = at + length <= into.length ? into : Arrays.copyOf(into, Math.max(into.length * 2, at + length));
        System.arraycopy(bytes, from, kept, at, length);
        return kept;
    }

    /** Takes one byte of a head, a chunk line or a trailer; {@code false} when it is refused. */
    private boolean accept(int b) {
        if (++headBytes > limits.maxHeaderBytes()) {
            return inBody() ? refuse(CoreErrors.INVALID_FRAMING, "a chunk line or the trailer section is over "
                    + limits.maxHeaderBytes() + " bytes")
                    : refuse(CoreErrors.HEADERS_TOO_LARGE, "the limit is " + limits.maxHeaderBytes() + " bytes");
        }
        switch (state) {
            case METHOD -> {
                if (b == ' ' && headBytes > 1) {
                    state = State.TARGET;
                } else if (!TOKEN[b]) {
                    return refuse(CoreErrors.INVALID_REQUEST_LINE, "the method must be a token followed by one space");
                }
            }
            case TARGET -> {
                if (b == ' ' && targetLength > 0) {
                    state = State.VERSION;
                } else if (!TARGET[b]) {
                    return refuse(CoreErrors.INVALID_REQUEST_LINE,
                            "the target has a character outside RFC 3986 at byte " + targetLength);
                } else {
                    // a target byte is taken by plainRun unless the target is at its limit
                    return refuse(CoreErrors.URI_TOO_LONG, "the limit is " + limits.maxTargetLength() + " bytes");
                }
            }
            case VERSION -> {
                if (b == '\r') {
                    if (!isVersion(HTTP_1_1) && !isVersion(HTTP_1_0)) {
                        return refuse(new String(version, 0, versionLength, StandardCharsets.ISO_8859_1)
                                .matches("HTTP/[0-9]\\.[0-9]")
                                ? CoreErrors.HTTP_VERSION_NOT_SUPPORTED : CoreErrors.INVALID_REQUEST_LINE,
                                "speak HTTP/1.1");
                    }
                    state = State.REQUEST_LINE_LF;
                } else {
                    // a version byte is taken by plainRun up to eight of them: this one is a ninth, or not one
                    return refuse(CoreErrors.INVALID_REQUEST_LINE, "the line must end in HTTP/1.1 and CRLF");
                }
            }
            case REQUEST_LINE_LF -> {
                return expectLf(b, State.LINE_START, CoreErrors.INVALID_REQUEST_LINE);
            }
            case LINE_START, TRAILER_START -> {
                boolean trailer = state == State.TRAILER_START;
                if (b == '\r') {
                    state = trailer ? State.TRAILER_END_LF : State.HEAD_END_LF;
                } else if (b == ' ' || b == '\t') {
                    return refuse(CoreErrors.INVALID_HEADER, "obsolete line folding is not accepted");
                } else if (!TOKEN[b]) {
                    return refuse(CoreErrors.INVALID_HEADER, "a field name must be a token");
                } else if (++headerCount > limits.maxHeaderCount()) {
                    return refuse(CoreErrors.TOO_MANY_HEADERS, "the limit is " + limits.maxHeaderCount());
                } else {
                    name[0] = (byte) b;
                    nameLength = 1;
                    state = trailer ? State.TRAILER_NAME : State.NAME;
                }
            }
            case NAME, TRAILER_NAME -> {
                if (b == ':') {
                    keepingValue = state == State.NAME && isFramingHeader();
                    valueLength = 0;
                    state = state == State.NAME ? State.VALUE : State.TRAILER_VALUE;
                } else {
                    // a token byte is taken by plainRun: this one is not
                    return refuse(CoreErrors.INVALID_HEADER, b == ' ' || b == '\t'
                            ? "whitespace in or after a field name" : "a field name must be a token");
                }
            }
            case VALUE, TRAILER_VALUE -> {
                if (b == '\r') {
                    if (keepingValue) {
                        keepFramingHeader(new String(value, 0, valueLength, StandardCharsets.ISO_8859_1).strip());
                    }
                    state = state == State.VALUE ? State.VALUE_LF : State.TRAILER_VALUE_LF;
                } else {
                    // a value byte is taken by plainRun: this one is a control character
                    return refuse(CoreErrors.INVALID_HEADER, "control character 0x" + Integer.toHexString(b)
                            + " in the value of " + new String(name, 0, nameLength, StandardCharsets.ISO_8859_1));
                }
            }
            case VALUE_LF -> {
                return expectLf(b, State.LINE_START, CoreErrors.INVALID_HEADER);
            }
            case TRAILER_VALUE_LF -> {
                return expectLf(b, State.TRAILER_START, CoreErrors.INVALID_HEADER);
            }
            case HEAD_END_LF -> {
                if (b != '\n') {
                    return refuse(CoreErrors.INVALID_HEADER, "a bare CR");
                }
                return endHead();
            }
            case TRAILER_END_LF -> {
                if (b != '\n') {
                    return refuse(CoreErrors.INVALID_HEADER, "a bare CR");
                }
                endMessage();
            }
            case CHUNK_SIZE -> {
                int digit = Character.digit(b, 16);
                if (digit >= 0) {
                    if (++chunkSizeDigits > MAX_CHUNK_SIZE_DIGITS) {
                        return refuse(CoreErrors.INVALID_FRAMING, "a chunk size overflows");
                    }
                    remaining = remaining * 16 + digit;
                } else if (chunkSizeDigits == 0) {
                    return refuse(CoreErrors.INVALID_FRAMING, "a chunk size must be hexadecimal digits");
                } else if (b == '\r') {
                    state = State.CHUNK_SIZE_LF;
                } else if (b == ';') {
                    state = State.CHUNK_EXTENSION;
                } else if (b == ' ' || b == '\t') {
                    state = State.CHUNK_BWS;
                } else {
                    return refuse(CoreErrors.INVALID_FRAMING, "a chunk size must be hexadecimal digits");
                }
            }
            case CHUNK_BWS -> {
                if (b == ';') {
                    state = State.CHUNK_EXTENSION;
                } else if (b != ' ' && b != '\t') {
                    return refuse(CoreErrors.INVALID_FRAMING, "only a chunk extension may follow a chunk size");
                }
            }
            case CHUNK_EXTENSION -> {
                if (b == '\r') {
                    state = State.CHUNK_SIZE_LF;
                } else if (b < ' ' && b != '\t' || b == 0x7f) {
                    return refuse(CoreErrors.INVALID_FRAMING, "a control character in a chunk extension");
                }
            }
            case CHUNK_SIZE_LF -> {
                if (b != '\n') {
                    return refuse(CoreErrors.INVALID_FRAMING, "a chunk size line must end in CRLF");
                }
                state = remaining == 0 ? State.TRAILER_START : State.CHUNK_DATA;
            }
            case CHUNK_DATA_CR -> {
                if (b != '\r') {
                    return refuse(CoreErrors.INVALID_FRAMING, "chunk data longer than its declared size");
                }
                state = State.CHUNK_DATA_LF;
            }
            case CHUNK_DATA_LF -> {
                if (b != '\n') {
                    return refuse(CoreErrors.INVALID_FRAMING, "chunk data longer than its declared size");
                }
                chunkSizeDigits = 0;
                headBytes = 0;
                state = State.CHUNK_SIZE;
            }
            default -> throw new IllegalStateException(state.name());
        }
        return true;
    }

    private boolean expectLf(int b, State next, ErrorCode errorCode) {
        if (b != '\n') {
            return refuse(errorCode, "a bare CR");
        }
        state = next;
        return true;
    }

    private boolean isVersion(byte[] expected) {
        return Arrays.equals(version, 0, versionLength, expected, 0, expected.length);
    }

    private boolean isFramingHeader() {
        return isName(HOST_NAME) || isName(CONTENT_LENGTH_NAME) || isName(TRANSFER_ENCODING_NAME);
    }

    /** Whether the field name read is {@code lowerCase}, in any case. */
    private boolean isName(byte[] lowerCase) {
        if (nameLength != lowerCase.length) {
            return false;
        }
        for (int i = 0; i < nameLength; i++) {
            if ((name[i] | 0x20) != lowerCase[i]) { // token bytes: only letters change with the 0x20 bit
                return false;
            }
        }
        return true;
    }

    private void keepFramingHeader(String text) {
        switch (nameLength) {
            case 4 -> hosts.add(text);
            case 14 -> contentLengths.add(text);
            default -> transferEncodings.add(text);
        }
    }

    /** The head is complete: decide how the body is framed, or refuse the message. */
    private boolean endHead() {
        boolean http11 = isVersion(HTTP_1_1);
        if (http11 && hosts.size() != 1 || hosts.size() > 1) {
            return refuse(CoreErrors.INVALID_HOST, "send exactly one Host header");
        }
        if (!hosts.isEmpty() && !isHost(hosts.getFirst())) {
            return refuse(CoreErrors.INVALID_HOST, "not a host and optional port");
        }
        if (!transferEncodings.isEmpty()) {
            return chunkedBody();
        }
        if (contentLengths.size() > 1) {
            return refuse(CoreErrors.INVALID_FRAMING, "more than one Content-Length");
        }
        if (contentLengths.size() == 1) {
            String length = contentLengths.getFirst();
            if (length.isEmpty() || length.length() > MAX_CONTENT_LENGTH_DIGITS
                    || !all(length, 0, length.length(), DIGIT)) {
                return refuse(CoreErrors.INVALID_FRAMING, "Content-Length must be a decimal number of bytes");
            }
            remaining = Long.parseLong(length);
        }
        if (remaining == 0) {
            endMessage();
        } else {
            headBytes = 0;
            state = State.FIXED_BODY;
        }
        return true;
    }

    private boolean chunkedBody() {
        if (!contentLengths.isEmpty()) {
            return refuse(CoreErrors.INVALID_FRAMING, "both Content-Length and Transfer-Encoding");
        }
        if (!isVersion(HTTP_1_1)) {
            return refuse(CoreErrors.INVALID_FRAMING, "Transfer-Encoding needs HTTP/1.1");
        }
        List<String> codings = new ArrayList<>();
        for (String header : transferEncodings) {
            for (String coding : header.split(",", -1)) {
                String token = coding.strip().toLowerCase(Locale.ROOT);
                if (token.isEmpty() || !token.chars().allMatch(c -> c < 256 && TOKEN[c])) {
                    return refuse(CoreErrors.INVALID_FRAMING, "a transfer coding must be a token");
                }
                codings.add(token);
            }
        }
        // Without chunked last the body's end cannot be known (RFC 9112, 6.3): a framing error, not a missing feature.
        if (!codings.getLast().equals("chunked") || codings.indexOf("chunked") != codings.size() - 1) {
            return refuse(CoreErrors.INVALID_FRAMING, "chunked must be the final transfer coding, and only once");
        }
        if (codings.size() > 1) {
            return refuse(CoreErrors.UNSUPPORTED_TRANSFER_CODING,
                    "'" + codings.getFirst() + "'; only chunked is accepted");
        }
        chunkSizeDigits = 0;
        remaining = 0;
        headBytes = 0;
        state = State.CHUNK_SIZE;
        return true;
    }

    /**
     * Whether {@code host} is RFC 3986's uri-host (a reg-name, an IPv4 address, or a bracketed IPv6 literal) with an
     * optional port of up to five digits. Checked by hand: a regular expression cost 2% of the CPU of a proxied request.
     */
    private static boolean isHost(String host) {
        int length = host.length();
        int at = 0;
        if (length > 0 && host.charAt(0) == '[') {
            int close = host.indexOf(']');
            if (close < 2 || !all(host, 1, close, IP_LITERAL)) {
                return false;
            }
            at = close + 1;
        } else {
            while (at < length && host.charAt(at) < 256 && REG_NAME[host.charAt(at)]) {
                at++;
            }
        }
        if (at == length) {
            return true;
        }
        return host.charAt(at) == ':' && length - at - 1 <= MAX_PORT_DIGITS && all(host, at + 1, length, DIGIT);
    }

    private static boolean all(String text, int from, int to, boolean[] allowed) {
        for (int i = from; i < to; i++) {
            if (text.charAt(i) >= 256 || !allowed[text.charAt(i)]) {
                return false;
            }
        }
        return true;
    }

    private void endMessage() {
        state = State.METHOD;
        headBytes = 0;
        headerCount = 0;
        targetLength = 0;
        versionLength = 0;
        contentLengths.clear();
        transferEncodings.clear();
        hosts.clear();
        remaining = 0;
    }

    private boolean refuse(ErrorCode errorCode, String detail) {
        refusal = new Refusal(errorCode, detail);
        return false;
    }
}
