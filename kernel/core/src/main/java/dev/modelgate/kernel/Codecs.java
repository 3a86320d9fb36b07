package dev.modelgate.kernel;

import dev.modelgate.spi.inference.CodecProvider;
import dev.modelgate.spi.inference.InferenceCodec;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Every codec the loaded plugins provide, by dialect: which one reads a request's {@code Content-Type}, and which one
 * writes the answer an {@code Accept} header asks for. Immutable.
 */
public final class Codecs {

    private final Map<String, List<InferenceCodec>> byDialect;

    private Codecs(Map<String, List<InferenceCodec>> byDialect) {
        this.byDialect = byDialect;
    }

    /**
     * The codecs of {@code providers}.
     *
     * @throws PluginRegistry.PluginException when two codecs share a dialect and media type
     */
    static Codecs of(Collection<PluginRegistry.Discovered<CodecProvider>> providers) {
        Map<String, List<InferenceCodec>> byDialect = new LinkedHashMap<>();
        Map<String, String> origins = new LinkedHashMap<>();
        for (PluginRegistry.Discovered<CodecProvider> discovered : providers) {
            for (InferenceCodec codec : discovered.provider().codecs()) {
                String key = codec.dialect() + " " + codec.mediaType();
                String earlier = origins.putIfAbsent(key, discovered.provider().type());
                if (earlier != null) {
                    throw new PluginRegistry.PluginException("the " + codec.dialect() + " codec for "
                            + codec.mediaType() + " is provided twice: by '" + earlier + "' and by '"
                            + discovered.provider().type() + "'");
                }
                byDialect.computeIfAbsent(codec.dialect(), d -> new ArrayList<>()).add(codec);
            }
        }
        byDialect.replaceAll((dialect, codecs) -> List.copyOf(codecs));
        return new Codecs(Map.copyOf(byDialect));
    }

    /** The codec of {@code dialect} that reads {@code mediaType} (lower case, without parameters). */
    public Optional<InferenceCodec> reader(String dialect, String mediaType) {
        for (InferenceCodec codec : byDialect.getOrDefault(dialect, List.of())) {
            if (codec.reads(mediaType)) {
                return Optional.of(codec);
            }
        }
        return Optional.empty();
    }

    /** The codec of {@code dialect} that writes exactly {@code mediaType}. */
    public Optional<InferenceCodec> writer(String dialect, String mediaType) {
        for (InferenceCodec codec : byDialect.getOrDefault(dialect, List.of())) {
            if (codec.mediaType().equals(mediaType)) {
                return Optional.of(codec);
            }
        }
        return Optional.empty();
    }

    /** The media types {@code dialect} can write, for a 406's detail. */
    List<String> writable(String dialect) {
        return byDialect.getOrDefault(dialect, List.of()).stream().map(InferenceCodec::mediaType).toList();
    }

    /**
     * The codec of {@code dialect} that answers a client sending {@code accept}: the acceptable media type of highest
     * quality it can write. No {@code Accept}, or a wildcard that covers {@code preferred}'s type, takes
     * {@code preferred} (the codec that read the request); {@code +json} types count as JSON.
     *
     * @return empty when nothing acceptable can be written (a 406)
     */
    Optional<InferenceCodec> negotiate(String dialect, String accept, InferenceCodec preferred) {
        if (accept == null || accept.isBlank()) {
            return Optional.of(preferred);
        }
        List<Accepted> ranges = new ArrayList<>();
        for (String entry : accept.split(",")) {
            Accepted range = Accepted.parse(entry);
            if (range != null && range.quality > 0) {
                ranges.add(range);
            }
        }
        ranges.sort(Comparator.comparingDouble((Accepted range) -> range.quality).reversed());
        for (Accepted range : ranges) {
            if (range.covers(preferred.mediaType())) {
                return Optional.of(preferred);
            }
            for (InferenceCodec codec : byDialect.getOrDefault(dialect, List.of())) {
                if (range.covers(codec.mediaType())) {
                    return Optional.of(codec);
                }
            }
        }
        return Optional.empty();
    }

    /**
     * Whether a client sending {@code accept} takes {@code mediaType}: no {@code Accept}, or an entry of non-zero
     * quality that covers it.
     */
    static boolean accepts(String accept, String mediaType) {
        if (accept == null || accept.isBlank()) {
            return true;
        }
        for (String entry : accept.split(",")) {
            Accepted range = Accepted.parse(entry);
            if (range != null && range.quality > 0 && range.covers(mediaType)) {
                return true;
            }
        }
        return false;
    }

    /** One entry of an {@code Accept} header. */
    private record Accepted(String type, String subtype, double quality) {

        static Accepted parse(String entry) {
            String[] parts = entry.split(";");
            String mediaType = parts[0].strip().toLowerCase(Locale.ROOT);
            int slash = mediaType.indexOf('/');
            if (slash <= 0) {
                return null;
            }
            double quality = 1;
            for (int i = 1; i < parts.length; i++) {
                String parameter = parts[i].strip();
                if (parameter.startsWith("q=")) {
                    try {
                        quality = Double.parseDouble(parameter.substring(2));
                    } catch (NumberFormatException e) {
                        quality = 0;
                    }
                }
            }
            String subtype = mediaType.substring(slash + 1);
            // application/vnd.modelgate.v2+json asks for the API version and JSON.
            if (subtype.endsWith("+json")) {
                subtype = "json";
            }
            return new Accepted(mediaType.substring(0, slash), subtype, quality);
        }

        boolean covers(String mediaType) {
            int slash = mediaType.indexOf('/');
            return (type.equals("*") || type.equals(mediaType.substring(0, slash)))
                    && (subtype.equals("*") || subtype.equals(mediaType.substring(slash + 1)));
        }
    }
}
