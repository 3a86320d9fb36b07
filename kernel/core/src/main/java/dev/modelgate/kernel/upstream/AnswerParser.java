package dev.modelgate.kernel.upstream;

import dev.modelgate.spi.Headers;
import dev.modelgate.spi.upstream.UpstreamException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * RFC 9112's framing of the answers to one connection's requests, one at a time and strictly: the status line, the
 * header lines, then the body as its headers frame it ({@code Content-Length}, chunked with any trailers, or up to
 * the connection's close), fed whatever each read brought, cut anywhere. It takes no byte past the answer's end, so
 * the caller can tell a server that sent more than it was asked (no pipelining: such a connection is not reused).
 *
 * <p>Its own code, not a library's: the HTTP/1.1 parsers that stand alone (Jetty's, Apache HttpCore's, Netty's)
 * come with their connection and buffer models, and a client's side of HTTP/1.1 is short. Used on its connection's
 * IO thread only; {@link #start} readies it for the next answer.
 */
final class AnswerParser {

    /** The most bytes of status line and headers (and of trailers) an answer may have. */
    static final int MAX_HEAD_BYTES = 64 * 1024;
    /** The most header lines (and trailer lines) an answer may have. */
    static final int MAX_HEADER_COUNT = 256;
    private static final int MAX_LENGTH_DIGITS = 18;
    private static final int MAX_CHUNK_SIZE_DIGITS = 15;
    private static final int MAX_CHUNK_EXTENSION_BYTES = 4096;

    /** What a body's reading does with each piece of its data, at the buffer's position. */
    interface Sink {
        /** Takes {@code count} bytes from {@code buffer}; {@code false} when the call ended meanwhile. */
        boolean take(ByteBuffer buffer, int count);
    }

    private enum Framing {
        /** No body (HEAD, 204, 304). */
        NONE,
        FIXED,
        CHUNKED,
        /** A body that ends when the server closes the connection. */
        TO_CLOSE
    }

    private enum Chunk {
        SIZE,
        /** Whitespace after the size: only more of it, an extension's ';' or the line's end may follow. */
        SIZE_SPACE,
        EXTENSION, SIZE_LF, DATA, DATA_CR, DATA_LF, TRAILER, TRAILER_LF, DONE
    }

    private static final boolean[] TOKEN = new boolean[256];
    /** Bytes of a field value (and of a reason phrase and a chunk extension): VCHAR, SP, HTAB, obs-text. */
    private static final boolean[] TEXT = new boolean[256];
    private static final int[] HEX = new int[256];
    /** The names most answers have, so that each answer does not make them anew. */
    private static final String[] COMMON_NAMES = {"Content-Type", "Content-Length", "Date", "Server", "Connection",
        "Transfer-Encoding", "Keep-Alive", "Cache-Control", "Vary", "ETag", "Last-Modified", "Accept-Ranges"};
    private static final byte[][] COMMON_NAME_BYTES = new byte[COMMON_NAMES.length][];

    static {
        for (char c : "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".toCharArray()) {
            TOKEN[c] = true;
        }
        for (int b = 0x20; b < 256; b++) {
            TEXT[b] = b != 0x7f;
        }
        TEXT['\t'] = true;
        Arrays.fill(HEX, -1);
        for (int d = 0; d < 10; d++) {
            HEX['0' + d] = d;
        }
        for (int d = 0; d < 6; d++) {
            HEX['a' + d] = 10 + d;
            HEX['A' + d] = 10 + d;
        }
        for (int i = 0; i < COMMON_NAMES.length; i++) {
            COMMON_NAME_BYTES[i] = COMMON_NAMES[i].getBytes(StandardCharsets.ISO_8859_1);
        }
    }

    private boolean headRequest;
    private byte[] head = new byte[1024];
    private int headLength;
    private int status;
    private boolean http11;
    private Headers headers;
    private Framing framing;
    private long contentLength;
    private boolean keepAlive;
    private long remaining;
    private Chunk chunk;
    private int digits;
    private int extensionBytes;
    private int trailerBytes;
    private int trailerCount;

    /** Readies it for the answer to a request; {@code headRequest} when that was a HEAD, whose answer has no body. */
    void start(boolean headRequest) {
        this.headRequest = headRequest;
        headLength = 0;
        headers = null;
    }

    /**
     * Takes the bytes of the answer's head from {@code in}, up to its empty line and no further; whether the head is
     * whole (then {@link #status}, {@link #headers} and the framing are known, and {@link #interim} tells whether
     * another head follows). Fails as {@code MALFORMED} at the first byte that cannot be HTTP/1.1.
     */
    boolean head(ByteBuffer in) throws UpstreamException {
        int from = in.position();
        int count = Math.min(in.remaining(), MAX_HEAD_BYTES - headLength);
        if (head.length < headLength + count) {
            head = Arrays.copyOf(head, Math.min(MAX_HEAD_BYTES, Math.max(head.length * 2, headLength + count)));
        }
        in.get(from, head, headLength, count);
        int scanned = headLength;
        headLength += count;
        for (int i = scanned; i < headLength; i++) {
            if (head[i] != '\n') {
                continue;
            }
            if (i == 0 || head[i - 1] != '\r') {
                throw malformed("a line of the answer's head ends without CR");
            }
            if (i >= 3 && head[i - 2] == '\n') {
                in.position(from + i + 1 - scanned);
                headLength = i + 1;
                parseHead();
                return true;
            }
        }
        in.position(from + count);
        if (headLength == MAX_HEAD_BYTES) {
            throw malformed("the answer's head is longer than " + MAX_HEAD_BYTES + " bytes");
        }
        return false;
    }

    /** Whether the head is an interim (1xx) one, to be skipped: the answer's own head follows. */
    boolean interim() {
        return status < 200;
    }

    int status() {
        return status;
    }

    Headers headers() {
        return headers;
    }

    /** The body's length: its {@code Content-Length}, 0 when it has none, -1 when chunked or read to the close. */
    long declaredLength() {
        return switch (framing) {
            case NONE -> 0;
            case FIXED -> contentLength;
            case CHUNKED, TO_CLOSE -> -1;
        };
    }

    /** Whether the connection may carry another request once this answer ends. */
    boolean keepAlive() {
        return keepAlive;
    }

    /** Whether the body ends with the connection: its close is then the body's end, not a break. */
    boolean endsAtClose() {
        return framing == Framing.TO_CLOSE;
    }

    /**
     * Passes the body's data in {@code in} to {@code sink}, taking the body's framing bytes itself and no byte past
     * its end; whether the body ended. Call it after the head is whole, again as more comes.
     */
    boolean body(ByteBuffer in, Sink sink) throws UpstreamException {
        return switch (framing) {
            case NONE -> true;
            case FIXED -> {
                int count = (int) Math.min(remaining, in.remaining());
                if (count > 0) {
                    remaining -= count;
                    if (!sink.take(in, count)) {
                        yield false;
                    }
                }
                yield remaining == 0;
            }
            case TO_CLOSE -> {
                if (in.hasRemaining()) {
                    sink.take(in, in.remaining());
                }
                yield false;
            }
            case CHUNKED -> chunked(in, sink);
        };
    }

    private boolean chunked(ByteBuffer in, Sink sink) throws UpstreamException {
        while (chunk != Chunk.DONE && in.hasRemaining()) {
            if (chunk == Chunk.DATA) {
                int count = (int) Math.min(remaining, in.remaining());
                remaining -= count;
                if (remaining == 0) {
                    chunk = Chunk.DATA_CR;
                }
                if (!sink.take(in, count)) {
                    return false;
                }
                continue;
            }
            int b = in.get() & 0xff;
            switch (chunk) {
                case SIZE -> chunkSize(b);
                case SIZE_SPACE -> afterChunkSize(b);
                case EXTENSION -> {
                    if (b == '\r') {
                        chunk = Chunk.SIZE_LF;
                    } else if (!TEXT[b] || ++extensionBytes > MAX_CHUNK_EXTENSION_BYTES) {
                        throw malformed("a bad chunk extension");
                    }
                }
                case SIZE_LF -> {
                    expect(b, '\n', "a chunk size line ends without LF");
                    digits = 0;
                    chunk = remaining == 0 ? Chunk.TRAILER : Chunk.DATA;
                    headLength = 0;
                }
                case DATA_CR -> {
                    expect(b, '\r', "a chunk's data is longer than its size");
                    chunk = Chunk.DATA_LF;
                }
                case DATA_LF -> {
                    expect(b, '\n', "a chunk's data ends without CRLF");
                    chunk = Chunk.SIZE;
                    remaining = 0;
                }
                case TRAILER -> trailerByte(b);
                case TRAILER_LF -> {
                    expect(b, '\n', "a trailer line ends without LF");
                    if (headLength == 0) {
                        chunk = Chunk.DONE;
                    } else {
                        trailerLine();
                        chunk = Chunk.TRAILER;
                        headLength = 0;
                    }
                }
                default -> throw new IllegalStateException(chunk.name());
            }
        }
        return chunk == Chunk.DONE;
    }

    private void chunkSize(int b) throws UpstreamException {
        int digit = HEX[b];
        if (digit >= 0) {
            if (++digits > MAX_CHUNK_SIZE_DIGITS) {
                throw malformed("a chunk size of more than " + MAX_CHUNK_SIZE_DIGITS + " digits");
            }
            remaining = remaining << 4 | digit;
        } else if (digits == 0) {
            throw malformed("a chunk size that is not hexadecimal");
        } else {
            afterChunkSize(b);
        }
    }

    /**
     * A byte after the size's digits: RFC 9112 7.1 lets only whitespace and an extension come before the line's end,
     * so that "5 6" is not read as a size of 5 where another parser would read no size at all.
     */
    private void afterChunkSize(int b) throws UpstreamException {
        if (b == '\r') {
            chunk = Chunk.SIZE_LF;
        } else if (b == ';') {
            extensionBytes = 0;
            chunk = Chunk.EXTENSION;
        } else if (b == ' ' || b == '\t') {
            chunk = Chunk.SIZE_SPACE;
        } else {
            throw malformed("a chunk size that is not hexadecimal");
        }
    }

    private void trailerByte(int b) throws UpstreamException {
        if (b == '\r') {
            chunk = Chunk.TRAILER_LF;
            return;
        }
        if (++trailerBytes > MAX_HEAD_BYTES) {
            throw malformed("the answer's trailers are longer than " + MAX_HEAD_BYTES + " bytes");
        }
        if (headLength == head.length) {
            head = Arrays.copyOf(head, head.length * 2);
        }
        head[headLength++] = (byte) b;
    }

    /** Checks a trailer line (without its CRLF), which is dropped: an answer passes on no trailers. */
    private void trailerLine() throws UpstreamException {
        if (++trailerCount > MAX_HEADER_COUNT) {
            throw malformed("more than " + MAX_HEADER_COUNT + " trailer lines");
        }
        int colon = fieldName(0, headLength);
        for (int i = colon + 1; i < headLength; i++) {
            if (!TEXT[head[i] & 0xff]) {
                throw malformed("a trailer value with a control character");
            }
        }
    }

    private static void expect(int b, char wanted, String otherwise) throws UpstreamException {
        if (b != wanted) {
            throw malformed(otherwise);
        }
    }

    /** Parses the whole head, {@code head[0, headLength)}, which ends with an empty line. */
    private void parseHead() throws UpstreamException {
        byte[] h = head;
        if (headLength < 16 || h[0] != 'H' || h[1] != 'T' || h[2] != 'T' || h[3] != 'P' || h[4] != '/'
                || h[5] != '1' || h[6] != '.' || h[7] != '1' && h[7] != '0' || h[8] != ' ') {
            throw malformed("the answer's status line is not HTTP/1.1");
        }
        http11 = h[7] == '1';
        int code = 0;
        for (int i = 9; i < 12; i++) {
            if (h[i] < '0' || h[i] > '9') {
                throw malformed("the answer's status line is not HTTP/1.1");
            }
            code = code * 10 + h[i] - '0';
        }
        if (code < 100 || code > 599) {
            throw malformed("the answer's status line is not HTTP/1.1");
        }
        status = code;
        int at = 12;
        if (h[at] == ' ') {
            // The reason phrase, which nobody reads.
            at++;
            while (h[at] != '\r') {
                if (!TEXT[h[at] & 0xff]) {
                    throw malformed("the answer's status line is not HTTP/1.1");
                }
                at++;
            }
        }
        if (h[at] != '\r' || h[at + 1] != '\n') {
            throw malformed("the answer's status line is not HTTP/1.1");
        }
        at += 2;
        headers = new Headers();
        contentLength = -1;
        boolean encoded = false;
        boolean chunkedLast = false;
        boolean close = false;
        boolean keepAliveAsked = false;
        int count = 0;
        int end = headLength - 2;
        while (at < end) {
            if (++count > MAX_HEADER_COUNT) {
                throw malformed("more than " + MAX_HEADER_COUNT + " header lines");
            }
            int lineEnd = at;
            while (h[lineEnd] != '\r') {
                lineEnd++;
            }
            if (h[lineEnd + 1] != '\n') {
                throw malformed("a CR alone in a header line");
            }
            int colon = fieldName(at, lineEnd);
            int valueStart = colon + 1;
            while (valueStart < lineEnd && (h[valueStart] == ' ' || h[valueStart] == '\t')) {
                valueStart++;
            }
            int valueEnd = lineEnd;
            while (valueEnd > valueStart && (h[valueEnd - 1] == ' ' || h[valueEnd - 1] == '\t')) {
                valueEnd--;
            }
            for (int i = valueStart; i < valueEnd; i++) {
                if (!TEXT[h[i] & 0xff]) {
                    throw malformed("a header value with a control character");
                }
            }
            String name = name(at, colon);
            String value = new String(h, valueStart, valueEnd - valueStart, StandardCharsets.ISO_8859_1);
            headers.add(name, value);
            if (name.equalsIgnoreCase("Content-Length")) {
                if (contentLength >= 0) {
                    throw malformed("more than one Content-Length");
                }
                contentLength = length(value);
            } else if (name.equalsIgnoreCase("Transfer-Encoding")) {
                for (String coding : value.split(",", -1)) {
                    String token = coding.strip();
                    int parameters = token.indexOf(';');
                    token = (parameters >= 0 ? token.substring(0, parameters) : token).strip();
                    if (token.isEmpty()) {
                        continue;
                    }
                    if (chunkedLast) {
                        throw malformed("a transfer coding after chunked");
                    }
                    chunkedLast = token.equalsIgnoreCase("chunked");
                    encoded = true;
                }
            } else if (name.equalsIgnoreCase("Connection")) {
                close |= hasOption(value, "close");
                keepAliveAsked |= hasOption(value, "keep-alive");
            }
            at = lineEnd + 2;
        }
        if (encoded && !http11) {
            throw malformed("an HTTP/1.0 answer with a Transfer-Encoding");
        }
        if (encoded && contentLength >= 0) {
            throw malformed("both a Transfer-Encoding and a Content-Length");
        }
        if (status == 101) {
            throw malformed("a switch of protocols nobody asked for");
        }
        if (status < 200 || headRequest || status == 204 || status == 304) {
            framing = Framing.NONE;
        } else if (encoded) {
            framing = chunkedLast ? Framing.CHUNKED : Framing.TO_CLOSE;
        } else if (contentLength >= 0) {
            framing = Framing.FIXED;
        } else {
            framing = Framing.TO_CLOSE;
        }
        keepAlive = !close && (http11 || keepAliveAsked) && framing != Framing.TO_CLOSE;
        remaining = framing == Framing.FIXED ? contentLength : 0;
        chunk = Chunk.SIZE;
        digits = 0;
        trailerBytes = 0;
        trailerCount = 0;
    }

    /** Checks the field name that starts a line at {@code from}; where its colon is. */
    private int fieldName(int from, int lineEnd) throws UpstreamException {
        int at = from;
        while (at < lineEnd && TOKEN[head[at] & 0xff]) {
            at++;
        }
        if (at == from || at == lineEnd || head[at] != ':') {
            throw malformed(at == from && (head[at] == ' ' || head[at] == '\t') ? "a folded header line"
                    : "a header line that is not a name, a colon and a value");
        }
        return at;
    }

    /**
     * Whether the comma-separated list {@code value} holds {@code option}, in any case: no array of its elements made,
     * as most answers carry a {@code Connection} header.
     */
    private static boolean hasOption(String value, String option) {
        int from = 0;
        while (from <= value.length()) {
            int comma = value.indexOf(',', from);
            int end = comma < 0 ? value.length() : comma;
            int start = from;
            while (start < end && (value.charAt(start) == ' ' || value.charAt(start) == '\t')) {
                start++;
            }
            while (end > start && (value.charAt(end - 1) == ' ' || value.charAt(end - 1) == '\t')) {
                end--;
            }
            if (end - start == option.length() && value.regionMatches(true, start, option, 0, option.length())) {
                return true;
            }
            if (comma < 0) {
                return false;
            }
            from = comma + 1;
        }
        return false;
    }

    private String name(int from, int to) {
        int length = to - from;
        for (int i = 0; i < COMMON_NAMES.length; i++) {
            byte[] common = COMMON_NAME_BYTES[i];
            if (common.length == length && Arrays.equals(head, from, to, common, 0, length)) {
                return COMMON_NAMES[i];
            }
        }
        return new String(head, from, length, StandardCharsets.ISO_8859_1);
    }

    private static long length(String value) throws UpstreamException {
        if (value.isEmpty() || value.length() > MAX_LENGTH_DIGITS) {
            throw malformed("a Content-Length that is not a length");
        }
        long length = 0;
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c < '0' || c > '9') {
                throw malformed("a Content-Length that is not a length");
            }
            length = length * 10 + c - '0';
        }
        return length;
    }

    private static UpstreamException malformed(String detail) {
        return new UpstreamException(UpstreamException.Kind.MALFORMED,
                "the answer is not well-formed HTTP/1.1: " + detail, null);
    }
}
