package dev.modelgate.kernel;

import io.undertow.connector.ByteBufferPool;
import io.undertow.connector.PooledByteBuffer;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Undertow's buffers, kept for reuse: a few per platform thread (the IO threads take and give back several per
 * request), the rest in one shared queue (virtual threads, which come and go, use only that).
 *
 * <p>Not Undertow's {@code DefaultByteBufferPool}: it finds a thread's cache in one synchronized {@code WeakHashMap}
 * shared by every thread, a lock both IO threads took about ten times per proxied request (2% of the bare route's
 * CPU, async-profiler), and it registers a cache for each virtual thread that allocates. Without its thread caches
 * it allocates a new direct buffer every time.
 */
public final class BufferPool implements ByteBufferPool {

    private static final int CACHED_PER_THREAD = 8;
    private static final VarHandle LENT;

    static {
        try {
            LENT = MethodHandles.lookup().findVarHandle(Pooled.class, "buffer", ByteBuffer.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }
    private static final int SHARED = 256;

    private final boolean direct;
    private final int bufferSize;
    private final ThreadLocal<ArrayDeque<ByteBuffer>> cache = ThreadLocal.withInitial(ArrayDeque::new);
    private final ConcurrentLinkedQueue<ByteBuffer> shared = new ConcurrentLinkedQueue<>();
    private final AtomicInteger sharedCount = new AtomicInteger();
    /** Heap buffers of the same size, for what Undertow wants as arrays; this pool itself when it is one. */
    private final BufferPool arrayBacked;

    public BufferPool(boolean direct, int bufferSize) {
        this.direct = direct;
        this.bufferSize = bufferSize;
        this.arrayBacked = direct ? new BufferPool(false, bufferSize) : this;
    }

    @Override
    public PooledByteBuffer allocate() {
        ByteBuffer buffer = Thread.currentThread().isVirtual() ? null : cache.get().pollLast();
        if (buffer == null) {
            buffer = shared.poll();
            if (buffer != null) {
                sharedCount.decrementAndGet();
            }
        }
        if (buffer == null) {
            buffer = direct ? ByteBuffer.allocateDirect(bufferSize) : ByteBuffer.allocate(bufferSize);
        }
        return new Pooled(buffer.clear());
    }

    private void free(ByteBuffer buffer) {
        if (!Thread.currentThread().isVirtual()) {
            ArrayDeque<ByteBuffer> mine = cache.get();
            if (mine.size() < CACHED_PER_THREAD) {
                mine.addLast(buffer);
                return;
            }
        }
        if (sharedCount.incrementAndGet() <= SHARED) {
            shared.add(buffer);
        } else {
            sharedCount.decrementAndGet(); // dropped: the garbage collector frees it
        }
    }

    @Override
    public ByteBufferPool getArrayBackedPool() {
        return arrayBacked;
    }

    @Override
    public void close() {
        shared.clear();
        sharedCount.set(0);
    }

    @Override
    public int getBufferSize() {
        return bufferSize;
    }

    @Override
    public boolean isDirect() {
        return direct;
    }

    /** One buffer lent out: given back once, on its first close (closes may race: the buffer is taken atomically). */
    private final class Pooled implements PooledByteBuffer {
        private volatile ByteBuffer buffer;

        Pooled(ByteBuffer buffer) {
            this.buffer = buffer;
        }

        @Override
        public ByteBuffer getBuffer() {
            ByteBuffer lent = buffer;
            if (lent == null) {
                throw new IllegalStateException("the buffer was given back to the pool");
            }
            return lent;
        }

        @Override
        public void close() {
            ByteBuffer lent = buffer == null ? null : (ByteBuffer) LENT.getAndSet(this, null);
            if (lent != null) {
                free(lent);
            }
        }

        @Override
        public boolean isOpen() {
            return buffer != null;
        }
    }
}
