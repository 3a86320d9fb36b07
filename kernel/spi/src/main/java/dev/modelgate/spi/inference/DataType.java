package dev.modelgate.spi.inference;

import dev.modelgate.spi.CoreErrors;
import dev.modelgate.spi.RejectionException;
import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * Tensor element types, named as in the Open Inference Protocol. Fixed-size types are held little-endian, row-major,
 * {@link #byteSize()} bytes an element (BOOL one byte, 0 or 1; FP16 as IEEE half-precision bits); {@code BYTES}
 * elements are byte strings of any length.
 */
public enum DataType {
    BOOL(1), UINT8(1), UINT16(2), UINT32(4), UINT64(8), INT8(1), INT16(2), INT32(4), INT64(8), FP16(2), FP32(4),
    FP64(8), BYTES(0);

    private static final String KNOWN = Arrays.stream(values()).map(Enum::name).collect(Collectors.joining(", "));

    private final int byteSize;

    DataType(int byteSize) {
        this.byteSize = byteSize;
    }

    /** Bytes per element; 0 for {@link #BYTES}, whose elements vary in length. */
    public int byteSize() {
        return byteSize;
    }

    public boolean isFloatingPoint() {
        return this == FP16 || this == FP32 || this == FP64;
    }

    public boolean isInteger() {
        return this != BOOL && this != BYTES && !isFloatingPoint();
    }

    public boolean isUnsigned() {
        return this == UINT8 || this == UINT16 || this == UINT32 || this == UINT64;
    }

    /**
     * The type named {@code name} as the protocol spells it ({@code FP32}).
     *
     * @throws RejectionException with {@link CoreErrors#UNKNOWN_DATA_TYPE} for any other name
     */
    public static DataType parse(String name) {
        if (name != null) {
            for (DataType type : values()) {
                if (type.name().equals(name)) {
                    return type;
                }
            }
        }
        throw new RejectionException(CoreErrors.UNKNOWN_DATA_TYPE,
                "'" + name + "'; the known data types are " + KNOWN);
    }
}
