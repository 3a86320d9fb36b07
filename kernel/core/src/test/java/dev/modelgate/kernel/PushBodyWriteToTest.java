package dev.modelgate.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.modelgate.kernel.fixtures.PushingBackendProvider;
import dev.modelgate.spi.PushBody;
import dev.modelgate.spi.StreamFailedException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/** {@link PushBody#writeTo}: a pushed body for a blocking writer, through a bounded queue. */
class PushBodyWriteToTest {

    /** A body that writes {@code pieces} pieces of 16 KB from a thread of its own, waiting when told, then ends. */
    private static final class Pieces implements PushBody {
        final AtomicInteger resumes = new AtomicInteger();
        final AtomicInteger cancels = new AtomicInteger();
        final CountDownLatch toldToWait = new CountDownLatch(1);
        private final int pieces;
        private final Consumer<Sink> ending;
        private final Semaphore resumed = new Semaphore(0);

        Pieces(int pieces, Consumer<Sink> ending) {
            this.pieces = pieces;
            this.ending = ending;
        }

        @Override
        public void start(Sink sink) {
            Thread.ofPlatform().daemon().start(() -> {
                for (int i = 0; i < pieces; i++) {
                    byte[] piece = new byte[16 * 1024];
                    java.util.Arrays.fill(piece, (byte) i);
                    if (!(sink.write(piece, 0, piece.length) & sink.flush())) {
                        toldToWait.countDown();
                        resumed.acquireUninterruptibly();
                    }
                }
                ending.accept(sink);
            });
        }

        @Override
        public void resume() {
            resumes.incrementAndGet();
            resumed.release();
        }

        @Override
        public void cancel() {
            cancels.incrementAndGet();
            resumed.release();
        }
    }

    @Test
    void aPushedBodyIsWrittenWholeToABlockingWriterThatHoldsItBack() throws Exception {
        Pieces body = new Pieces(64, PushBody.Sink::end);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        OutputStream holdingBack = new OutputStream() {
            @Override
            public void write(int b) {
                write(new byte[] {(byte) b}, 0, 1);
            }

            @Override
            public void write(byte[] b, int off, int len) {
                // Takes nothing until the body was told to wait: the queue between them is full by then.
                try {
                    assertTrue(body.toldToWait.await(30, TimeUnit.SECONDS), "the body was never told to wait");
                } catch (InterruptedException e) {
                    throw new AssertionError(e);
                }
                out.write(b, off, len);
            }
        };

        body.writeTo(holdingBack);

        byte[] written = out.toByteArray();
        assertEquals(64 * 16 * 1024, written.length);
        for (int i = 0; i < 64; i++) {
            assertEquals((byte) i, written[i * 16 * 1024 + 100], "piece " + i);
        }
        assertTrue(body.resumes.get() > 0, "1 MB through a 64 KB queue: the body, told to wait, was resumed");
        assertEquals(0, body.cancels.get());
    }

    @Test
    void aToldFailureComesAfterWhatWasWrittenAndAnAbortAsAnIoException() {
        StreamFailedException told = new StreamFailedException(PushingBackendProvider.TOLD, "told", null);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        assertSame(told, assertThrows(StreamFailedException.class,
                () -> new Pieces(2, sink -> sink.endFailed(told)).writeTo(out)));
        assertEquals(2 * 16 * 1024, out.size());

        IllegalStateException broke = new IllegalStateException("broke");
        assertSame(broke, assertThrows(IOException.class,
                () -> new Pieces(1, sink -> sink.abort(broke)).writeTo(new ByteArrayOutputStream())).getCause());
    }

    @Test
    void aWriterThatFailsCancelsTheBody() {
        Pieces body = new Pieces(8, PushBody.Sink::end);
        assertThrows(IOException.class, () -> body.writeTo(new OutputStream() {
            @Override
            public void write(int b) throws IOException {
                throw new IOException("the client went away");
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                throw new IOException("the client went away");
            }
        }));
        assertEquals(1, body.cancels.get());
    }
}
