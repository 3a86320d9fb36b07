package dev.modelgate.plugins.kservev2.protobuf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.modelgate.spi.inference.CodecProvider;
import dev.modelgate.spi.inference.InferenceCodec;
import java.util.ServiceLoader;
import org.junit.jupiter.api.Test;

class KServeV2ProtobufCodecProviderTest {

    @Test
    void theServiceLoaderFindsOneKServeV2ProtobufCodec() {
        CodecProvider provider = ServiceLoader.load(CodecProvider.class).stream()
                .map(ServiceLoader.Provider::get)
                .filter(found -> found.type().equals("kserve-v2-protobuf"))
                .findFirst().orElseThrow();

        assertEquals(1, provider.codecs().size());
        InferenceCodec codec = provider.codecs().getFirst();
        assertEquals("kserve-v2", codec.dialect());
        assertEquals("application/x-protobuf", codec.mediaType());
        assertTrue(codec.reads("application/x-protobuf"));
        assertTrue(codec.reads("application/protobuf"));
        assertFalse(codec.reads("application/json"));
    }
}
