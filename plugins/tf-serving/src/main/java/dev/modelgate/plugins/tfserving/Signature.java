package dev.modelgate.plugins.tfserving;

import dev.modelgate.spi.CoreErrors;
import dev.modelgate.spi.RejectionException;
import dev.modelgate.spi.inference.DataType;
import dev.modelgate.spi.inference.ModelMetadata;
import dev.modelgate.spi.inference.TensorMetadata;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * The tensors a reader may meet: with a model's metadata, its inputs by name (their data types, the name an unnamed
 * tensor takes, and the names a request must give); without, any names, types inferred from the values. Immutable.
 */
final class Signature {

    private final Map<String, DataType> types;
    private final boolean known;
    private final String unnamed;

    private Signature(Map<String, DataType> types, boolean known, String unnamed) {
        this.types = types;
        this.known = known;
        this.unnamed = unnamed;
    }

    /** The inputs of {@code metadata}; without metadata, any tensors, an unnamed one named {@code ""}. */
    static Signature ofInputs(ModelMetadata metadata) {
        if (metadata == null) {
            return open("");
        }
        Map<String, DataType> types = new LinkedHashMap<>();
        for (TensorMetadata input : metadata.inputs()) {
            types.put(input.name(), input.type());
        }
        return new Signature(types, true, types.size() == 1 ? types.keySet().iterator().next() : null);
    }

    /** Any tensors, their types inferred; an unnamed one is named {@code unnamed}. */
    static Signature open(String unnamed) {
        return new Signature(Map.of(), false, unnamed);
    }

    /** A sink for the tensor {@code name}: of its declared type, else inferring one. */
    ElementSink sink(String name) {
        return ElementSink.of(name, types.get(name));
    }

    /**
     * The name of a tensor given without one (a plain list).
     *
     * @throws RejectionException with {@link CoreErrors#INPUT_MISMATCH} when the model has other than one input
     */
    String unnamed() {
        if (unnamed == null) {
            throw new RejectionException(CoreErrors.INPUT_MISMATCH, "the model has inputs " + types.keySet()
                    + ", so each must be given by name, in an object");
        }
        return unnamed;
    }

    /**
     * Checks that {@code names} are exactly the model's inputs, when it declares them.
     *
     * @param where what gave the names, for the message: {@code "instance 0"}, {@code "'inputs'"}
     * @throws RejectionException with {@link CoreErrors#INPUT_MISMATCH} otherwise
     */
    void checkNames(Collection<String> names, String where) {
        if (known && !Set.copyOf(names).equals(types.keySet())) {
            throw new RejectionException(CoreErrors.INPUT_MISMATCH, where + " names " + names
                    + ", but the model's inputs are " + types.keySet());
        }
    }
}
