package dev.modelgate.plugins.kservev2.protobuf;

import dev.modelgate.spi.inference.CodecProvider;
import dev.modelgate.spi.inference.InferenceCodec;
import java.util.List;

/**
 * Contributes the Open Inference Protocol (KServe v2) in Protobuf: the gRPC service's messages as
 * {@code application/x-protobuf} bodies, for fronts and backends of dialect {@code kserve-v2}. Needs no configuration.
 */
public final class KServeV2ProtobufCodecProvider implements CodecProvider {

    private final List<InferenceCodec> codecs = List.of(new KServeV2ProtobufCodec());

    @Override
    public String type() {
        return "kserve-v2-protobuf";
    }

    @Override
    public List<InferenceCodec> codecs() {
        return codecs;
    }
}
