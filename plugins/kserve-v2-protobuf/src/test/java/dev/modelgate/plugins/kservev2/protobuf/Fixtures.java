package dev.modelgate.plugins.kservev2.protobuf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.google.protobuf.ByteString;
import dev.modelgate.spi.ErrorCode;
import dev.modelgate.spi.Exchange;
import dev.modelgate.spi.RejectionException;
import dev.modelgate.spi.inference.DataType;
import dev.modelgate.spi.inference.Tensor;
import dev.modelgate.spi.testing.CodecExchange;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.function.Executable;

/** What the codec's tests share: an exchange, sample tensors and assertions on tensors and rejections. */
final class Fixtures {

    static final KServeV2ProtobufCodec CODEC = new KServeV2ProtobufCodec();

    private Fixtures() {
    }

    /**
     * An exchange for {@code model} and {@code version} on the kserve-v2 front that answers nothing else, so a test
     * fails if the codec relies on more.
     */
    static Exchange exchange(String model, String version) {
        return CodecExchange.call("kserve-v2", model, version, "infer");
    }

    /** A tensor of {@code type} and shape [2, 3] whose elements are all different and valid for the type. */
    static Tensor sample(String name, DataType type) {
        long[] shape = {2, 3};
        if (type == DataType.BYTES) {
            return Tensor.ofBytes(name, shape, List.of(new byte[0], utf8("a"), utf8("héllo"), new byte[] {0, -1, 0},
                    utf8("tensor"), new byte[300]));
        }
        ByteBuffer data = ByteBuffer.allocate(6 * type.byteSize());
        for (int i = 0; i < data.capacity(); i++) {
            // BOOL holds only 0 and 1; for the other types any bytes are a valid element (NaN payloads included).
            data.put((byte) (type == DataType.BOOL ? i % 2 : i * 37 + 1));
        }
        return Tensor.of(name, type, shape, data.flip());
    }

    /** Little-endian raw contents of FP32 {@code values}. */
    static ByteString rawFloats(float... values) {
        ByteBuffer data = ByteBuffer.allocate(values.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        data.asFloatBuffer().put(values);
        return ByteString.copyFrom(data);
    }

    /** Little-endian raw contents of UINT32 {@code values}. */
    static ByteString rawInts(int... values) {
        ByteBuffer data = ByteBuffer.allocate(values.length * Integer.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        data.asIntBuffer().put(values);
        return ByteString.copyFrom(data);
    }

    static byte[] utf8(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    static void assertSameTensor(Tensor expected, Tensor actual) {
        assertEquals(expected.name(), actual.name(), "name");
        assertEquals(expected.type(), actual.type(), expected.name() + " type");
        assertArrayEquals(expected.shape(), actual.shape(), expected.name() + " shape");
        assertEquals(elements(expected), elements(actual), expected.name() + " elements");
    }

    static void assertSameTensors(List<Tensor> expected, List<Tensor> actual) {
        assertEquals(expected.size(), actual.size(), "tensor count");
        for (int i = 0; i < expected.size(); i++) {
            assertSameTensor(expected.get(i), actual.get(i));
        }
    }

    static void assertRejected(ErrorCode expected, Executable decoding) {
        RejectionException rejection = assertThrows(RejectionException.class, decoding);
        assertEquals(expected, rejection.errorCode(), rejection.getMessage());
    }

    /** The tensor's elements as comparable values: byte buffers compare by content. */
    private static List<ByteBuffer> elements(Tensor tensor) {
        List<ByteBuffer> elements = new ArrayList<>();
        if (tensor.type() == DataType.BYTES) {
            for (int i = 0; i < tensor.elementCount(); i++) {
                elements.add(tensor.bytesAt(i));
            }
        } else {
            elements.add(tensor.data());
        }
        return elements;
    }
}
