package dev.modelgate.plugins.grpcfront;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.WireFormat;

/**
 * Reads the few string fields that route a request (model, version, id) without parsing the whole message, which
 * the codec does once the call is routed.
 */
final class MessageFields {

    private MessageFields() {
    }

    /**
     * The top-level string fields {@code numbers} of {@code message}, each the empty string when absent.
     *
     * @throws InvalidProtocolBufferException when {@code message} is not a valid Protobuf message
     */
    static String[] strings(byte[] message, int... numbers) throws InvalidProtocolBufferException {
        String[] values = new String[numbers.length];
        java.util.Arrays.fill(values, "");
        CodedInputStream input = CodedInputStream.newInstance(message);
        try {
            for (int tag = input.readTag(); tag != 0; tag = input.readTag()) {
                int index = indexOf(numbers, WireFormat.getTagFieldNumber(tag));
                if (index >= 0 && WireFormat.getTagWireType(tag) == WireFormat.WIRETYPE_LENGTH_DELIMITED) {
                    values[index] = input.readStringRequireUtf8();
                } else if (!input.skipField(tag)) {
                    break;
                }
            }
        } catch (InvalidProtocolBufferException e) {
            throw e;
        } catch (java.io.IOException e) {
            throw new InvalidProtocolBufferException(e);
        }
        return values;
    }

    private static int indexOf(int[] numbers, int number) {
        for (int i = 0; i < numbers.length; i++) {
            if (numbers[i] == number) {
                return i;
            }
        }
        return -1;
    }

    /** {@code value}, or {@code null} when empty, as proto3 leaves an unset string. */
    static String orNull(String value) {
        return value.isEmpty() ? null : value;
    }
}
