package dev.modelgate.plugins.kservev2;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.modelgate.spi.inference.CodecProvider;
import dev.modelgate.spi.inference.InferenceCodec;
import java.util.List;
import java.util.ServiceLoader;
import org.junit.jupiter.api.Test;

class KServeV2CodecProviderTest {

    @Test
    void theServiceLoaderFindsTheProviderWithItsJsonAndMsgpackCodecs() {
        CodecProvider provider = ServiceLoader.load(CodecProvider.class).stream()
                .map(ServiceLoader.Provider::get)
                .filter(found -> found instanceof KServeV2CodecProvider)
                .findFirst()
                .orElseThrow();

        assertEquals("kserve-v2", provider.type());
        List<InferenceCodec> codecs = provider.codecs();
        assertEquals(List.of("kserve-v2", "kserve-v2"), codecs.stream().map(InferenceCodec::dialect).toList());
        assertEquals(List.of("application/json", "application/msgpack"),
                codecs.stream().map(InferenceCodec::mediaType).toList());
        assertTrue(codecs.getFirst().reads("application/octet-stream"), "Triton's binary bodies are JSON's");
    }
}
