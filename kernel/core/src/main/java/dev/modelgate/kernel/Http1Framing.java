package dev.modelgate.kernel;

import dev.modelgate.spi.CoreErrors;
import dev.modelgate.spi.ErrorCode;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

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
    /**
     * RFC 3986's uri-host (reg-name, IPv4 or a bracketed IPv6 literal) with an optional port. Compiled once: a
     * {@code String.matches} per request compiled it every time, 2% of the gateway's CPU per proxied request.
     */
    private static final Pattern HOST =
            Pattern.compile("(\\[[0-9A-Fa-f:.]+\\]|[A-Za-z0-9\\-._~!$&'()*+,;=%]*)(:[0-9]{0,5})?");
    private static final Pattern CONTENT_LENGTH = Pattern.compile("[0-9]{1,18}");

    static {
        for (char c : "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".toCharArray()) {
            TOKEN[c] = true;
        }
        for (char c : "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~:/?[]@!$&'()*+,;=%"
                .toCharArray()) {
            TARGET[c] = true;
        }
    }

    private final Limits limits;
    private State state = State.METHOD;
    private Refusal refusal;
    private int headBytes;
    private int headerCount;
    private int targetLength;
    private final StringBuilder target = new StringBuilder();
    private final StringBuilder version = new StringBuilder();
    private final StringBuilder name = new StringBuilder();
    /** The value being read, kept only for the headers that decide framing. */
    private StringBuilder value;
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
        return target.toString();
    }

    /** Whether no byte of a message has been accepted since the last one ended. */
    boolean betweenMessages() {
        return state == State.METHOD && headBytes == 0;
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
        for (int i = start; i < end && refusal == null; i++) {
            if (state == State.FIXED_BODY || state == State.CHUNK_DATA) {
                int run = (int) Math.min(remaining, end - i);
                remaining -= run;
                i += run - 1;
                if (remaining == 0) {
                    if (state == State.FIXED_BODY) {
                        endMessage();
                        return i + 1 - start;
                    }
                    state = State.CHUNK_DATA_CR;
                }
                continue;
            }
            if (!accept(bytes.get(i) & 0xff)) {
                return i - start;
            }
            if (betweenMessages()) {
                return i + 1 - start;
            }
        }
        return end - start;
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
                } else if (++targetLength > limits.maxTargetLength()) {
                    return refuse(CoreErrors.URI_TOO_LONG, "the limit is " + limits.maxTargetLength() + " bytes");
                } else {
                    target.append((char) b);
                }
            }
            case VERSION -> {
                if (b == '\r') {
                    if (!version.toString().equals("HTTP/1.1") && !version.toString().equals("HTTP/1.0")) {
                        return refuse(version.toString().matches("HTTP/[0-9]\\.[0-9]")
                                ? CoreErrors.HTTP_VERSION_NOT_SUPPORTED : CoreErrors.INVALID_REQUEST_LINE,
                                "speak HTTP/1.1");
                    }
                    state = State.REQUEST_LINE_LF;
                } else if (version.length() >= 8 || b <= ' ' || b >= 0x7f) {
                    return refuse(CoreErrors.INVALID_REQUEST_LINE, "the line must end in HTTP/1.1 and CRLF");
                } else {
                    version.append((char) b);
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
                    name.setLength(0);
                    name.append((char) b);
                    state = trailer ? State.TRAILER_NAME : State.NAME;
                }
            }
            case NAME, TRAILER_NAME -> {
                if (b == ':') {
                    value = isFramingHeader() && state == State.NAME ? new StringBuilder() : null;
                    state = state == State.NAME ? State.VALUE : State.TRAILER_VALUE;
                } else if (!TOKEN[b]) {
                    return refuse(CoreErrors.INVALID_HEADER, b == ' ' || b == '\t'
                            ? "whitespace in or after a field name" : "a field name must be a token");
                } else {
                    name.append((char) b);
                }
            }
            case VALUE, TRAILER_VALUE -> {
                if (b == '\r') {
                    if (value != null) {
                        keepFramingHeader(value.toString().strip());
                    }
                    state = state == State.VALUE ? State.VALUE_LF : State.TRAILER_VALUE_LF;
                } else if (b < ' ' && b != '\t' || b == 0x7f) {
                    return refuse(CoreErrors.INVALID_HEADER, "control character 0x" + Integer.toHexString(b)
                            + " in the value of " + name);
                } else if (value != null) {
                    value.append((char) b);
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

    private boolean isFramingHeader() {
        return name.length() == 4 && name.toString().equalsIgnoreCase("host")
                || name.length() == 14 && name.toString().equalsIgnoreCase("content-length")
                || name.length() == 17 && name.toString().equalsIgnoreCase("transfer-encoding");
    }

    private void keepFramingHeader(String text) {
        switch (name.length()) {
            case 4 -> hosts.add(text);
            case 14 -> contentLengths.add(text);
            default -> transferEncodings.add(text);
        }
    }

    /** The head is complete: decide how the body is framed, or refuse the message. */
    private boolean endHead() {
        boolean http11 = version.toString().equals("HTTP/1.1");
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
            if (!CONTENT_LENGTH.matcher(length).matches()) {
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
        if (!version.toString().equals("HTTP/1.1")) {
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

    /** Whether {@code host} is a {@link #HOST}. */
    private static boolean isHost(String host) {
        return HOST.matcher(host).matches();
    }

    private void endMessage() {
        state = State.METHOD;
        headBytes = 0;
        headerCount = 0;
        targetLength = 0;
        target.setLength(0);
        version.setLength(0);
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
