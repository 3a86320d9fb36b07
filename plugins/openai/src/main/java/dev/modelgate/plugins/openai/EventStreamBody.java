package dev.modelgate.plugins.openai;

import dev.modelgate.spi.Body;
import dev.modelgate.spi.ErrorCode;
import dev.modelgate.spi.Json;
import dev.modelgate.spi.StreamFailedException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;

/**
 * An upstream's server-sent events relayed one by one as they arrive: each event (up to its blank line) is written
 * and flushed on its own, nothing is held beyond the event being read. A stream the upstream breaks midway ends with
 * an error event in OpenAI's shape ({@code data: {"error": {...}}}), which the SDKs raise as an API error, and then
 * throws a {@link StreamFailedException} with the event's code, so that the breaker and the access log see the call
 * as failed while the client's answer still ends cleanly; a client
 * that goes away closes the upstream's stream, which cancels the upstream call; an upstream that sends nothing for
 * {@code stream-idle-timeout} ends the stream the same way, with its own code ({@link StallGuard}). An event that reports token
 * {@code usage} (the last chunk, when {@code stream_options.include_usage} asked for it) is handed to the usage
 * listener; when the gateway asked for it and not the client, the chunk that only reports usage is not relayed.
 */
final class EventStreamBody implements Body {

    private static final System.Logger LOG = System.getLogger(EventStreamBody.class.getName());

    private static final byte[] DATA = "data:".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] USAGE = "\"usage\"".getBytes(StandardCharsets.US_ASCII);
    /**
     * The read buffer's first size: a few events of tokens; it doubles for an event that does not fit (allocated per
     * stream, so small: the young collections it causes pause every stream at once).
     */
    private static final int FIRST_BUFFER_BYTES = 1024;

    private final InputStream upstream;
    private final String upstreamName;
    private final Duration idleTimeout;
    private final Consumer<TokenUsage> onUsage;
    private final boolean dropUsageChunk;
    private final Runnable onFirstEvent;

    /**
     * @param idleTimeout the longest the upstream may send nothing before the stream is ended as stalled
     * @param dropUsageChunk whether the chunk that only reports usage stays from the client, who did not ask for it
     * @param onFirstEvent run once, when the first event has been read (time to first token)
     */
    EventStreamBody(InputStream upstream, String upstreamName, Duration idleTimeout, Consumer<TokenUsage> onUsage,
            boolean dropUsageChunk, Runnable onFirstEvent) {
        this.upstream = upstream;
        this.upstreamName = upstreamName;
        this.idleTimeout = idleTimeout;
        this.onUsage = onUsage;
        this.dropUsageChunk = dropUsageChunk;
        this.onFirstEvent = onFirstEvent;
    }

    @Override
    public long length() {
        return -1;
    }

    @Override
    public void writeTo(OutputStream out) throws IOException {
        StallGuard guard = new StallGuard(upstream, idleTimeout);
        try (InputStream in = guard) {
            // The bytes read and not relayed yet: the event being read, and what came after it in the same read.
            byte[] pending = new byte[FIRST_BUFFER_BYTES];
            int length = 0;
            int scanned = 0;
            boolean lineEmpty = true;
            boolean first = true;
            while (true) {
                if (length == pending.length) {
                    pending = Arrays.copyOf(pending, pending.length * 2);
                }
                int read;
                IOException broken = null;
                try {
                    read = in.read(pending, length, pending.length - length);
                } catch (IOException e) {
                    broken = e;
                    read = -1;
                }
                if (read < 0 && (broken != null || guard.stalled())) {
                    ErrorCode why = guard.stalled() ? OpenAiErrors.STREAM_STALLED : OpenAiErrors.STREAM_BROKEN;
                    LOG.log(System.Logger.Level.WARNING, upstreamName + ": " + why.summary()
                            + (guard.stalled() ? " (nothing for " + idleTimeout + ")" : ": " + broken));
                    // An event cut short is dropped: its half would corrupt the error event's data.
                    out.write(errorEvent(why));
                    out.flush();
                    throw new StreamFailedException(why, upstreamName + ": " + why.summary(), broken);
                }
                if (read < 0) {
                    out.write(pending, 0, length);
                    out.flush();
                    return;
                }
                length += read;
                // Each event ends at its blank line; those complete in this read are relayed one by one.
                int eventStart = 0;
                for (int i = scanned; i < length; i++) {
                    byte next = pending[i];
                    if (next == '\n') {
                        if (lineEmpty) {
                            if (first) {
                                first = false;
                                onFirstEvent.run();
                            }
                            relay(pending, eventStart, i + 1 - eventStart, out);
                            eventStart = i + 1;
                        }
                        lineEmpty = true;
                    } else if (next != '\r') {
                        lineEmpty = false;
                    }
                }
                System.arraycopy(pending, eventStart, pending, 0, length - eventStart);
                length -= eventStart;
                scanned = length;
            }
        }
    }

    /** Relays one whole event, and hands the usage it reports to the listener. */
    private void relay(byte[] bytes, int offset, int length, OutputStream out) throws IOException {
        TokenUsage usage = usageOf(bytes, offset, length);
        if (usage != null) {
            onUsage.accept(usage);
        }
        if (usage == null || !(usage.usageOnly() && dropUsageChunk)) {
            out.write(bytes, offset, length);
            out.flush();
        }
    }

    /** The usage an event reports, or {@code null} for the many that report none. */
    private static TokenUsage usageOf(byte[] bytes, int offset, int length) {
        int end = offset + length;
        if (indexOf(bytes, offset, end, USAGE) < 0) {
            return null;
        }
        int data = indexOf(bytes, offset, end, DATA);
        return data < 0 ? null : TokenUsage.of(bytes, data + DATA.length, end - data - DATA.length);
    }

    /** Where {@code part} first occurs in {@code bytes} between {@code from} and {@code to}, or -1. */
    private static int indexOf(byte[] bytes, int from, int to, byte[] part) {
        for (int i = from; i + part.length <= to; i++) {
            if (bytes[i] == part[0] && Arrays.equals(bytes, i, i + part.length, part, 0, part.length)) {
                return i;
            }
        }
        return -1;
    }

    /** OpenAI's error event, which ends a broken stream. */
    private static byte[] errorEvent(ErrorCode why) throws IOException {
        Map<String, Object> error = new LinkedHashMap<>();
        error.put("message", why.summary());
        error.put("type", "api_error");
        error.put("param", null);
        error.put("code", Integer.toString(why.code()));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write("data: ".getBytes(StandardCharsets.US_ASCII));
        out.write(Json.MAPPER.writeValueAsBytes(Map.of("error", error)));
        out.write("\n\n".getBytes(StandardCharsets.US_ASCII));
        return out.toByteArray();
    }
}
