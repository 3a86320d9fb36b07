package dev.modelgate.plugins.tfserving;

import dev.modelgate.spi.inference.CodecProvider;
import dev.modelgate.spi.inference.InferenceCodec;
import java.util.List;

/**
 * The TensorFlow Serving REST dialect, {@code tf-serving}, in JSON ({@code application/json}) and MessagePack
 * ({@code application/msgpack}, also read as {@code application/x-msgpack}).
 */
public final class TfServingCodecProvider implements CodecProvider {

    private final List<InferenceCodec> codecs = List.of(TfServingCodec.json(), TfServingCodec.msgpack());

    @Override
    public String type() {
        return TfServingCodec.DIALECT;
    }

    @Override
    public List<InferenceCodec> codecs() {
        return codecs;
    }
}
