package dev.modelgate.kernel.upstream;

import dev.modelgate.spi.upstream.UpstreamRequest;
import io.undertow.connector.ByteBufferPool;
import io.undertow.connector.PooledByteBuffer;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.xnio.channels.StreamSinkChannel;

/**
 * Writes one request at a time on its connection: the head, then the body, in one write when both fit a pooled
 * buffer (one copy, one system call), else in one gathering write of the head's buffer and the body's array. Used on
 * its connection's IO thread only.
 */
final class RequestWriter {

    private static final byte[] VERSION = " HTTP/1.1\r\n".getBytes(StandardCharsets.ISO_8859_1);
    private static final byte[] HOST = "Host: ".getBytes(StandardCharsets.ISO_8859_1);
    private static final byte[] CONTENT_LENGTH = "Content-Length: ".getBytes(StandardCharsets.ISO_8859_1);
    /** Headers the pool writes itself, as the request's framing and the connection's need them. */
    private static final String[] FRAMING = {"Host", "Content-Length", "Transfer-Encoding", "Connection"};
    private static final boolean[] TOKEN = new boolean[128];
    private static final byte[] HEX_DIGITS = "0123456789ABCDEF".getBytes(StandardCharsets.ISO_8859_1);

    static {
        for (char c : "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".toCharArray()) {
            TOKEN[c] = true;
        }
    }

    private final ByteBufferPool buffers;
    private byte[] head = new byte[512];
    private int length;
    private PooledByteBuffer pooled;
    private ByteBuffer[] pending;

    RequestWriter(ByteBufferPool buffers) {
        this.buffers = buffers;
    }

    /** Makes {@code request}'s bytes, to be written by {@link #write}. */
    void prepare(UpstreamRequest request, String host) {
        length = 0;
        ascii(request.method());
        put((byte) ' ');
        target(request.target());
        put(VERSION);
        put(HOST);
        ascii(host);
        crlf();
        if (request.headers() != null) {
            request.headers().forEach(this::header);
        }
        byte[] body = request.body();
        if (body != null || takesBody(request.method())) {
            // RFC 9110 8.6: a method that defines a body says its length, 0 for none, or servers refuse it (411).
            put(CONTENT_LENGTH);
            ascii(body == null ? "0" : Integer.toString(body.length));
            crlf();
        }
        crlf();
        release();
        int bodyLength = body == null ? 0 : body.length;
        pooled = buffers.allocate();
        ByteBuffer buffer = pooled.getBuffer();
        buffer.clear();
        if (length + bodyLength <= buffer.capacity()) {
            buffer.put(head, 0, length);
            if (bodyLength > 0) {
                buffer.put(body);
            }
            pending = new ByteBuffer[] {buffer.flip()};
        } else if (length <= buffer.capacity()) {
            buffer.put(head, 0, length);
            pending = new ByteBuffer[] {buffer.flip(), ByteBuffer.wrap(body)};
        } else {
            pending = bodyLength == 0 ? new ByteBuffer[] {ByteBuffer.wrap(head, 0, length)}
                    : new ByteBuffer[] {ByteBuffer.wrap(head, 0, length), ByteBuffer.wrap(body)};
        }
    }

    private static boolean takesBody(String method) {
        return "POST".equals(method) || "PUT".equals(method) || "PATCH".equals(method);
    }

    /** Writes what {@code sink} takes of the request; whether all of it went (and was flushed). */
    boolean write(StreamSinkChannel sink) throws IOException {
        ByteBuffer last = pending[pending.length - 1];
        while (last.hasRemaining()) {
            long written = pending.length == 1 ? sink.write(last) : sink.write(pending, 0, pending.length);
            if (written == 0) {
                return false;
            }
        }
        if (!sink.flush()) {
            return false;
        }
        release();
        return true;
    }

    /** Gives back the buffer of a request written or given up. */
    void release() {
        if (pooled != null) {
            pooled.close();
            pooled = null;
        }
        pending = null;
    }

    private void header(String name, String value) {
        for (String framing : FRAMING) {
            if (framing.equalsIgnoreCase(name)) {
                return;
            }
        }
        if (name.isEmpty()) {
            // It would make the line ": value", no field line at all, which a server refuses (400) or misreads.
            return;
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c >= 128 || !TOKEN[c]) {
                // Not a field name: no server would take it, and it could end the line early.
                return;
            }
        }
        ascii(name);
        put((byte) ':');
        put((byte) ' ');
        int count = value.length();
        ensure(count);
        for (int i = 0; i < count; i++) {
            char c = value.charAt(i);
            // RFC 9110 5.5: a value holds no control character but the tab; each other becomes a space, as a
            // recipient does with CR, LF and NUL (a server may refuse the others, or a log line split on them).
            head[length++] = c < ' ' && c != '\t' || c == 0x7f ? (byte) ' ' : c > 0xff ? (byte) '?' : (byte) c;
        }
        crlf();
    }

    /** The target as given, but for bytes a request line cannot hold, which are percent-encoded (UTF-8). */
    private void target(String target) {
        int count = target.length();
        for (int i = 0; i < count; i++) {
            char c = target.charAt(i);
            if (c <= ' ' || c >= 0x7f) {
                for (byte b : target.substring(i).getBytes(StandardCharsets.UTF_8)) {
                    int unsigned = b & 0xff;
                    if (unsigned <= ' ' || unsigned >= 0x7f) {
                        put((byte) '%');
                        put(HEX_DIGITS[unsigned >> 4]);
                        put(HEX_DIGITS[unsigned & 0xf]);
                    } else {
                        put(b);
                    }
                }
                return;
            }
            put((byte) c);
        }
    }

    /** A string known to be of single-byte characters. */
    private void ascii(String text) {
        int count = text.length();
        ensure(count);
        for (int i = 0; i < count; i++) {
            head[length++] = (byte) text.charAt(i);
        }
    }

    private void crlf() {
        put((byte) '\r');
        put((byte) '\n');
    }

    private void put(byte b) {
        ensure(1);
        head[length++] = b;
    }

    private void put(byte[] bytes) {
        ensure(bytes.length);
        System.arraycopy(bytes, 0, head, length, bytes.length);
        length += bytes.length;
    }

    private void ensure(int more) {
        if (length + more > head.length) {
            head = Arrays.copyOf(head, Math.max(head.length * 2, length + more));
        }
    }
}
