package dev.modelgate.plugins.openai;

import dev.modelgate.spi.ErrorCode;
import dev.modelgate.spi.Json;
import dev.modelgate.spi.PushBody;
import dev.modelgate.spi.StreamFailedException;
import dev.modelgate.spi.upstream.ChunkListener;
import dev.modelgate.spi.upstream.StreamedBody;
import dev.modelgate.spi.upstream.UpstreamException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;

/**
 * An upstream's server-sent events relayed one by one as they arrive, pushed on the IO thread that reads them
 * ({@link StreamedBody#push}) to the client's connection ({@link PushBody}), with no thread of its own: the events
 * complete in a chunk are written and then flushed together, nothing is held beyond the event being read. While the
 * client's connection takes less than it was given, the upstream is not read. A stream the upstream breaks midway ends
 * with an error event in OpenAI's shape ({@code data: {"error": {...}}}), which the SDKs raise as an API error, and
 * then fails with a {@link StreamFailedException} with the event's code, so that the breaker and the access log see
 * the call as failed while the client's answer still ends cleanly; a client that goes away cancels the upstream call
 * at once; an upstream that sends nothing for {@code stream-idle-timeout} ends the stream the same way, with its own
 * code ({@link UpstreamException.Kind#STALLED}). An event that reports token {@code usage} (the last chunk, when
 * {@code stream_options.include_usage} asked for it) is handed to the usage listener; when the gateway asked for it
 * and not the client, the chunk that only reports usage is not relayed.
 *
 * <p>Threads: {@link #start} and the upstream's chunks on the upstream call's IO thread, one at a time;
 * {@link #resume} and {@link #cancel} from any thread.
 */
final class EventStreamBody implements PushBody, ChunkListener {

    private static final System.Logger LOG = System.getLogger(EventStreamBody.class.getName());

    private static final byte[] DATA = "data:".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] USAGE = "\"usage\"".getBytes(StandardCharsets.US_ASCII);
    /**
     * The event buffer's first size: a few events of tokens; it doubles for an event that does not fit (allocated per
     * stream, so small: the young collections it causes pause every stream at once).
     */
    private static final int FIRST_BUFFER_BYTES = 1024;

    private final StreamedBody upstream;
    private final String upstreamName;
    private final Duration idleTimeout;
    private final Consumer<TokenUsage> onUsage;
    private final boolean dropUsageChunk;
    private final Runnable onFirstEvent;
    private Sink sink;
    /** The bytes not relayed yet: the event being read. */
    private byte[] pending = new byte[FIRST_BUFFER_BYTES];
    private int length;
    private boolean lineEmpty = true;
    private boolean first = true;
    private volatile boolean cancelled;

    /**
     * @param idleTimeout the longest the upstream may send nothing before the stream is ended as stalled
     * @param dropUsageChunk whether the chunk that only reports usage stays from the client, who did not ask for it
     * @param onFirstEvent run once, when the first event has been read (time to first token)
     */
    EventStreamBody(StreamedBody upstream, String upstreamName, Duration idleTimeout, Consumer<TokenUsage> onUsage,
            boolean dropUsageChunk, Runnable onFirstEvent) {
        this.upstream = upstream;
        this.upstreamName = upstreamName;
        this.idleTimeout = idleTimeout;
        this.onUsage = onUsage;
        this.dropUsageChunk = dropUsageChunk;
        this.onFirstEvent = onFirstEvent;
    }

    @Override
    public void start(Sink into) {
        this.sink = into;
        upstream.push(this, idleTimeout);
    }

    @Override
    public void resume() {
        upstream.resume();
    }

    /** Closing the upstream's stream before its end drops its connection: the call ends at once. */
    @Override
    public void cancel() {
        cancelled = true;
        try {
            upstream.close();
        } catch (IOException e) {
            // the connection is gone either way
        }
    }

    @Override
    public boolean onChunk(byte[] chunk) {
        if (cancelled) {
            return false;
        }
        try {
            return relayEvents(chunk);
        } catch (RuntimeException e) {
            // A usage listener that failed, say: the answer is cut, never left hanging.
            cancel();
            sink.abort(e);
            return false;
        }
    }

    /** Relays the events {@code chunk} completes; whether the client's connection took them all. */
    private boolean relayEvents(byte[] chunk) {
        if (pending.length - length < chunk.length) {
            pending = Arrays.copyOf(pending, Math.max(pending.length * 2, length + chunk.length));
        }
        int scanned = length;
        System.arraycopy(chunk, 0, pending, length, chunk.length);
        length += chunk.length;
        // Each event ends at its blank line; those complete in this chunk are relayed one by one.
        int eventStart = 0;
        for (int i = scanned; i < length; i++) {
            byte next = pending[i];
            if (next == '\n') {
                if (lineEmpty) {
                    if (first) {
                        first = false;
                        onFirstEvent.run();
                    }
                    relay(pending, eventStart, i + 1 - eventStart);
                    eventStart = i + 1;
                }
                lineEmpty = true;
            } else if (next != '\r') {
                lineEmpty = false;
            }
        }
        System.arraycopy(pending, eventStart, pending, 0, length - eventStart);
        length -= eventStart;
        return eventStart == 0 || sink.flush();
    }

    /** Writes one whole event, and hands the usage it reports to the listener. */
    private void relay(byte[] bytes, int offset, int count) {
        TokenUsage usage = usageOf(bytes, offset, count);
        if (usage != null) {
            onUsage.accept(usage);
        }
        if (usage == null || !(usage.usageOnly() && dropUsageChunk)) {
            sink.write(bytes, offset, count);
        }
    }

    @Override
    public void onEnd() {
        if (cancelled) {
            return;
        }
        if (length > 0) {
            sink.write(pending, 0, length);
        }
        sink.flush();
        sink.end();
    }

    @Override
    public void onFailure(UpstreamException failure) {
        if (cancelled) {
            return;
        }
        boolean stalled = failure.kind() == UpstreamException.Kind.STALLED;
        ErrorCode why = stalled ? OpenAiErrors.STREAM_STALLED : OpenAiErrors.STREAM_BROKEN;
        LOG.log(System.Logger.Level.WARNING, upstreamName + ": " + why.summary()
                + (stalled ? " (nothing for " + idleTimeout + ")" : ": " + failure));
        // An event cut short is dropped: its half would corrupt the error event's data.
        byte[] event = errorEvent(why);
        sink.write(event, 0, event.length);
        sink.flush();
        sink.endFailed(new StreamFailedException(why, upstreamName + ": " + why.summary(), failure));
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
    private static byte[] errorEvent(ErrorCode why) {
        Map<String, Object> error = new LinkedHashMap<>();
        error.put("message", why.summary());
        error.put("type", "api_error");
        error.put("param", null);
        error.put("code", Integer.toString(why.code()));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            out.write("data: ".getBytes(StandardCharsets.US_ASCII));
            out.write(Json.MAPPER.writeValueAsBytes(Map.of("error", error)));
        } catch (IOException e) {
            throw new UncheckedIOException("a map of strings is always JSON", e);
        }
        out.write('\n');
        out.write('\n');
        return out.toByteArray();
    }
}
