package dev.modelgate.plugins.kservev2;

import dev.modelgate.spi.inference.CodecProvider;
import dev.modelgate.spi.inference.InferenceCodec;
import java.util.List;

/**
 * Contributes the Open Inference Protocol (KServe v2) REST codecs of dialect {@code kserve-v2}: JSON (reading
 * Triton's binary tensor data extension as {@code application/octet-stream} too) and MessagePack.
 */
public final class KServeV2CodecProvider implements CodecProvider {

    private final List<InferenceCodec> codecs = List.of(KServeV2Codec.json(), KServeV2Codec.msgpack());

    @Override
    public String type() {
        return KServeV2Codec.DIALECT;
    }

    @Override
    public List<InferenceCodec> codecs() {
        return codecs;
    }
}
