package dev.modelgate.spi.inference;

import dev.modelgate.spi.PluginProvider;
import java.util.List;

/**
 * A {@link java.util.ServiceLoader} entry that contributes codecs. Discovered like every plugin; its codecs are
 * available to every front and backend as soon as the jar is loaded, without configuration. Two codecs for the same
 * dialect and media type stop startup.
 */
public interface CodecProvider extends PluginProvider {

    /** The codecs, built once at discovery. */
    List<InferenceCodec> codecs();
}
