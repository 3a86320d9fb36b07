package dev.modelgate.kernel;

import dev.modelgate.spi.PushBody;
import dev.modelgate.spi.StreamFailedException;
import io.undertow.server.HttpServerExchange;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import org.xnio.XnioIoThread;
import org.xnio.channels.StreamSinkChannel;

/**
 * Writes a {@link PushBody} on the exchange's IO thread without blocking: what the body writes goes to the response
 * channel at once; what the channel does not take is kept (with anything written after it) and finished by the
 * channel's write listener, and the body, told to wait meanwhile, is resumed once all of it went. The client is
 * watched for its end while the body streams ({@link StrictHttp1#whenClientGone}): a client that goes away, like a
 * write that fails, cancels the body at once.
 *
 * <p>Threads: everything runs on the exchange's IO thread. A body whose source is on another (an upstream call made
 * from a virtual thread) has its calls handed over to it in order; each write so handed over tells the body to wait,
 * and it is resumed once the write went.
 */
final class PushWriter implements PushBody.Sink {

    private static final System.Logger LOG = System.getLogger(PushWriter.class.getName());

    private final HttpServerExchange http;
    private final PushBody body;
    private final StreamSinkChannel channel;
    private final XnioIoThread thread;
    /** What the channel has not taken yet, ready to be read from; empty while it keeps up. */
    private ByteBuffer kept = ByteBuffer.allocate(0);
    /** Whether the body was told to wait (a write or flush that did not go) and needs a {@link PushBody#resume}. */
    private boolean waiting;
    /** Whether the body ended: the answer ends once what is kept went. */
    private boolean ending;
    private boolean finished;

    private PushWriter(HttpServerExchange http, PushBody body) {
        this.http = http;
        this.body = body;
        this.channel = http.getResponseChannel();
        this.thread = channel.getIoThread();
    }

    /** Writes {@code body} as the answer, whose head is set; on the exchange's IO thread. */
    static void start(HttpServerExchange http, PushBody body) {
        PushWriter writer = new PushWriter(http, body);
        writer.channel.getWriteSetter().set(ignored -> writer.writable());
        StrictHttp1.whenClientGone(http, writer::clientGone);
        try {
            body.start(writer);
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.ERROR, "a pushed response body failed to start", e);
            writer.abort(e);
        }
    }

    @Override
    public boolean write(byte[] bytes, int offset, int length) {
        if (Thread.currentThread() != thread) {
            byte[] copy = Arrays.copyOfRange(bytes, offset, offset + length);
            thread.execute(() -> {
                waiting = true;
                if (write(copy, 0, copy.length) && flush()) {
                    resumeBody();
                }
            });
            return false;
        }
        if (finished) {
            return false;
        }
        if (kept.hasRemaining()) {
            keep(ByteBuffer.wrap(bytes, offset, length));
            waiting = true;
            return false;
        }
        ByteBuffer buffer = ByteBuffer.wrap(bytes, offset, length);
        try {
            channel.write(buffer);
        } catch (IOException e) {
            broke(e);
            return false;
        }
        if (buffer.hasRemaining()) {
            keep(buffer);
            waiting = true;
            channel.resumeWrites();
            return false;
        }
        return true;
    }

    @Override
    public boolean flush() {
        if (Thread.currentThread() != thread) {
            thread.execute(() -> {
                waiting = true;
                if (flush()) {
                    resumeBody();
                }
            });
            return false;
        }
        if (finished) {
            return false;
        }
        if (kept.hasRemaining()) {
            return false;
        }
        try {
            if (channel.flush()) {
                return true;
            }
        } catch (IOException e) {
            broke(e);
            return false;
        }
        waiting = true;
        channel.resumeWrites();
        return false;
    }

    @Override
    public void end() {
        if (handedOver(this::end) || finished) {
            return;
        }
        ending = true;
        if (!kept.hasRemaining()) {
            finish();
        }
    }

    @Override
    public void endFailed(StreamFailedException failure) {
        if (handedOver(() -> endFailed(failure)) || finished) {
            return;
        }
        // The body told the client already: its answer ends whole, and the listeners learn of the failure.
        http.putAttachment(ResponseWriter.WRITE_FAILURE, failure);
        LOG.log(System.Logger.Level.DEBUG, () -> "a streamed answer failed midway: " + failure);
        end();
    }

    @Override
    public void abort(Throwable failure) {
        if (handedOver(() -> abort(failure)) || finished) {
            return;
        }
        finished = true;
        LOG.log(System.Logger.Level.ERROR, "a streaming response body failed", failure);
        ResponseWriter.cut(http, failure instanceof Exception e ? e : new IOException(failure));
        http.endExchange();
    }

    /** Whether the caller is not on the IO thread: {@code again} then runs there, after what was handed over before. */
    private boolean handedOver(Runnable again) {
        if (Thread.currentThread() == thread) {
            return false;
        }
        thread.execute(again);
        return true;
    }

    /** The channel takes more: what is kept goes, then the body goes on or the answer ends. */
    private void writable() {
        if (finished) {
            channel.suspendWrites();
            return;
        }
        try {
            while (kept.hasRemaining()) {
                if (channel.write(kept) == 0) {
                    return;
                }
            }
            if (!channel.flush()) {
                return;
            }
        } catch (IOException e) {
            broke(e);
            return;
        }
        channel.suspendWrites();
        if (ending) {
            finish();
        } else {
            resumeBody();
        }
    }

    private void resumeBody() {
        if (waiting && !finished) {
            waiting = false;
            body.resume();
        }
    }

    /** Adds what the channel did not take of {@code rest} to what is kept. */
    private void keep(ByteBuffer rest) {
        if (kept.capacity() - kept.remaining() < rest.remaining()) {
            ByteBuffer larger = ByteBuffer.allocate(Math.max(kept.remaining() + rest.remaining(),
                    kept.capacity() * 2));
            kept = larger.put(kept).put(rest).flip();
        } else {
            kept.compact().put(rest).flip();
        }
    }

    /** The whole body went: the answer's last chunk, then the exchange's end, on this thread. */
    private void finish() {
        finished = true;
        ResponseWriter.end(http, channel);
    }

    private void broke(IOException e) {
        finished = true;
        LOG.log(System.Logger.Level.DEBUG, () -> "writing the response failed: " + e);
        body.cancel();
        ResponseWriter.cut(http, e);
        http.endExchange();
    }

    private void clientGone() {
        if (!finished) {
            broke(new IOException("the client went away"));
        }
    }
}
