package dev.modelgate.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.undertow.connector.PooledByteBuffer;
import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class BufferPoolTest {

    @Test
    void aBufferGivenBackIsLentAgainClearedAndOnlyOnceHowEverOftenItIsClosed() {
        BufferPool pool = new BufferPool(true, 1024);
        PooledByteBuffer first = pool.allocate();
        ByteBuffer buffer = first.getBuffer();
        assertTrue(buffer.isDirect());
        assertEquals(1024, buffer.capacity());
        buffer.put((byte) 1).flip();
        first.close();
        first.close();
        assertFalse(first.isOpen());
        assertThrows(IllegalStateException.class, first::getBuffer);

        PooledByteBuffer again = pool.allocate();
        PooledByteBuffer other = pool.allocate();
        assertSame(buffer, again.getBuffer());
        assertEquals(0, again.getBuffer().position());
        assertEquals(1024, again.getBuffer().limit());
        assertNotSame(buffer, other.getBuffer(), "a buffer closed twice was given back twice");
    }

    @Test
    void virtualThreadsShareBuffersWithEveryThread() throws Exception {
        BufferPool pool = new BufferPool(false, 64);
        AtomicReference<ByteBuffer> freedByVirtual = new AtomicReference<>();
        Thread.ofVirtual().start(() -> {
            PooledByteBuffer pooled = pool.allocate();
            freedByVirtual.set(pooled.getBuffer());
            pooled.close();
        }).join();
        AtomicReference<ByteBuffer> taken = new AtomicReference<>();
        Thread.ofPlatform().start(() -> taken.set(pool.allocate().getBuffer())).join();
        assertSame(freedByVirtual.get(), taken.get(), "what a virtual thread gives back goes to the shared queue");
        assertSame(pool, pool.getArrayBackedPool());
        assertFalse(new BufferPool(true, 64).getArrayBackedPool().isDirect());
    }
}
