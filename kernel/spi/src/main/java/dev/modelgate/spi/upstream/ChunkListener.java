package dev.modelgate.spi.upstream;

/**
 * Takes a streamed answer's body as it arrives ({@link StreamedBody#push}), on the call's IO thread: it must not
 * block. After {@link #onEnd} or {@link #onFailure}, nothing more comes.
 */
public interface ChunkListener {

    /**
     * A piece of the body, the listener's to keep. Returns whether the call may read on: {@code false} stops reading
     * from the server until {@link StreamedBody#resume} (a piece already read may still come).
     */
    boolean onChunk(byte[] chunk);

    /** The body's last byte came. */
    void onEnd();

    /** The call broke, outlived its time, passed its size, or its server went quiet ({@link UpstreamException.Kind#STALLED}). */
    void onFailure(UpstreamException failure);
}
