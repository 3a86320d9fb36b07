package dev.modelgate.plugins.kservev2;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.modelgate.spi.inference.DataType;
import dev.modelgate.spi.inference.Tensor;
import dev.modelgate.spi.inference.TensorBuilder;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

/** Sample tensors of every data type, with the edge values each type holds, and a deep comparison. */
final class Tensors {

    private Tensors() {
    }

    /** A [1, 3] tensor named after its type, holding that type's extremes. */
    static Tensor sample(DataType type) {
        TensorBuilder builder = Tensor.builder(type.name().toLowerCase(), type);
        switch (type) {
            case BOOL -> builder.addBoolean(true).addBoolean(false).addBoolean(true);
            case UINT8 -> builder.addLong(0).addLong(7).addLong(255);
            case UINT16 -> builder.addLong(0).addLong(7).addLong(65_535);
            case UINT32 -> builder.addLong(0).addLong(7).addLong(4_294_967_295L);
            case UINT64 -> builder.addLong(0).addLong(7)
                    .addBigInteger(BigInteger.ONE.shiftLeft(64).subtract(BigInteger.ONE));
            case INT8 -> builder.addLong(Byte.MIN_VALUE).addLong(0).addLong(Byte.MAX_VALUE);
            case INT16 -> builder.addLong(Short.MIN_VALUE).addLong(0).addLong(Short.MAX_VALUE);
            case INT32 -> builder.addLong(Integer.MIN_VALUE).addLong(0).addLong(Integer.MAX_VALUE);
            case INT64 -> builder.addLong(Long.MIN_VALUE).addLong(0).addLong(Long.MAX_VALUE);
            case FP16 -> builder.addDouble(0.5).addDouble(-65_504).addDouble(0.1);
            case FP32 -> builder.addDouble(1.1f).addDouble(-0.0f).addDouble(Float.MAX_VALUE);
            case FP64 -> builder.addDouble(0.1).addDouble(-1e300).addDouble(Double.MIN_VALUE);
            case BYTES -> builder.addBytes(utf8("hello")).addBytes(utf8("")).addBytes(utf8("ünïcødé ✓"));
        }
        return builder.build(new long[] {1, 3});
    }

    static byte[] utf8(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    static void assertSameTensor(Tensor expected, Tensor actual) {
        assertEquals(expected.name(), actual.name());
        assertEquals(expected.type(), actual.type(), expected.name());
        assertArrayEquals(expected.shape(), actual.shape(), expected.name());
        if (expected.type() == DataType.BYTES) {
            for (int i = 0; i < expected.elementCount(); i++) {
                assertEquals(expected.bytesAt(i), actual.bytesAt(i), expected.name() + "[" + i + "]");
            }
        } else {
            assertEquals(expected.data(), actual.data(), () -> expected.name() + ": " + describe(expected)
                    + " but was " + describe(actual));
        }
    }

    static void assertSameTensors(List<Tensor> expected, List<Tensor> actual) {
        assertEquals(expected.size(), actual.size(), () -> expected + " but was " + actual);
        for (int i = 0; i < expected.size(); i++) {
            assertSameTensor(expected.get(i), actual.get(i));
        }
    }

    private static String describe(Tensor tensor) {
        ByteBuffer data = tensor.data();
        byte[] bytes = new byte[data.remaining()];
        data.get(bytes);
        return Arrays.toString(bytes);
    }
}
