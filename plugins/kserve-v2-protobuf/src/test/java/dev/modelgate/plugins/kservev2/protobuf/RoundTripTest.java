package dev.modelgate.plugins.kservev2.protobuf;

import static dev.modelgate.plugins.kservev2.protobuf.Fixtures.CODEC;
import static dev.modelgate.plugins.kservev2.protobuf.Fixtures.assertSameTensor;
import static dev.modelgate.plugins.kservev2.protobuf.Fixtures.assertSameTensors;
import static dev.modelgate.plugins.kservev2.protobuf.Fixtures.exchange;
import static dev.modelgate.plugins.kservev2.protobuf.Fixtures.sample;
import static dev.modelgate.plugins.kservev2.protobuf.Fixtures.utf8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.modelgate.plugins.kservev2.protobuf.inference.InferTensorContents;
import dev.modelgate.plugins.kservev2.protobuf.inference.ModelInferRequest;
import dev.modelgate.plugins.kservev2.protobuf.inference.ModelInferResponse;
import dev.modelgate.plugins.kservev2.protobuf.inference.ModelMetadataResponse;
import dev.modelgate.spi.BackendException;
import dev.modelgate.spi.inference.DataType;
import dev.modelgate.spi.inference.InferenceRequest;
import dev.modelgate.spi.inference.InferenceResponse;
import dev.modelgate.spi.inference.ModelMetadata;
import dev.modelgate.spi.inference.Payload;
import dev.modelgate.spi.inference.RequestedOutput;
import dev.modelgate.spi.inference.Tensor;
import dev.modelgate.spi.inference.TensorMetadata;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** What the codec writes, it reads back unchanged: every data type, parameters, requested outputs, metadata. */
class RoundTripTest {

    private static final Map<String, Object> PARAMETERS =
            Map.of("priority", 1L, "temperature", 0.5, "sequence_start", true, "tag", "t");

    @ParameterizedTest
    @EnumSource(DataType.class)
    void everyDataTypeRoundTripsThroughARequest(DataType type) {
        InferenceRequest request = new InferenceRequest("m", "3", "id-1", List.of(sample("x", type)),
                List.of(new RequestedOutput("y", Map.of("binary_data", true))), PARAMETERS);

        InferenceRequest decoded = CODEC.decodeRequest(CODEC.encodeRequest(request), exchange("m", null), null);

        assertSameTensors(request.inputs(), decoded.inputs());
        assertEquals("m", decoded.model());
        assertEquals("3", decoded.version());
        assertEquals("id-1", decoded.id());
        assertEquals(PARAMETERS, decoded.parameters());
        assertEquals(request.outputs(), decoded.outputs());
    }

    @ParameterizedTest
    @EnumSource(DataType.class)
    void everyDataTypeRoundTripsThroughAResponse(DataType type) throws BackendException {
        InferenceResponse response = new InferenceResponse("m", "3", "id-1", List.of(sample("y", type)), PARAMETERS);

        InferenceResponse decoded = CODEC.decodeResponse(CODEC.encodeResponse(response, exchange("m", "3")),
                new InferenceRequest("m", "3", "id-1", List.of(), List.of(), Map.of()));

        assertSameTensors(response.outputs(), decoded.outputs());
        assertEquals("3", decoded.version());
        assertEquals("id-1", decoded.id());
        assertEquals(PARAMETERS, decoded.parameters());
    }

    @Test
    void fp16TravelsAsRawHalfPrecisionBits() throws InvalidProtocolBufferException {
        ByteBuffer halves = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN)
                .putShort(Float.floatToFloat16(1.5f)).putShort(Float.floatToFloat16(-2.0f)).flip();
        InferenceRequest request = new InferenceRequest("m", null, null,
                List.of(Tensor.of("half", DataType.FP16, new long[] {2}, halves)), List.of(), Map.of());

        Payload payload = CODEC.encodeRequest(request);
        Tensor decoded = CODEC.decodeRequest(payload, exchange("m", null), null).input("half");

        assertEquals(ByteString.copyFrom(new byte[] {0x00, 0x3E, 0x00, (byte) 0xC0}),
                ModelInferRequest.parseFrom(payload.body()).getRawInputContents(0));
        assertEquals(1.5, decoded.doubleAt(0));
        assertEquals(-2.0, decoded.doubleAt(1));
    }

    @Test
    void bytesTravelAsRawElementsEachAfterItsLittleEndianLength() throws InvalidProtocolBufferException {
        InferenceRequest request = new InferenceRequest("m", null, null,
                List.of(Tensor.ofBytes("text", new long[] {2}, List.of(utf8("ab"), new byte[0]))), List.of(),
                Map.of());

        Payload payload = CODEC.encodeRequest(request);

        assertEquals(ByteString.copyFrom(new byte[] {2, 0, 0, 0, 'a', 'b', 0, 0, 0, 0}),
                ModelInferRequest.parseFrom(payload.body()).getRawInputContents(0));
        assertSameTensor(request.input("text"), CODEC.decodeRequest(payload, exchange("m", null), null).input("text"));
    }

    @Test
    void aResponseWithTypedContentsDecodesToo() throws BackendException {
        ModelInferResponse message = ModelInferResponse.newBuilder().setModelName("m")
                .addOutputs(ModelInferResponse.InferOutputTensor.newBuilder().setName("big").setDatatype("UINT64")
                        .addShape(2).setContents(InferTensorContents.newBuilder()
                                .addUint64Contents(-1L).addUint64Contents(7L)))
                .addOutputs(ModelInferResponse.InferOutputTensor.newBuilder().setName("words").setDatatype("BYTES")
                        .addShape(1).setContents(InferTensorContents.newBuilder()
                                .addBytesContents(ByteString.copyFromUtf8("hi"))))
                .build();

        InferenceResponse decoded = CODEC.decodeResponse(new Payload("application/x-protobuf", message.toByteArray()),
                new InferenceRequest("m", null, "req-9", List.of(), List.of(), Map.of()));

        assertEquals("18446744073709551615", Long.toUnsignedString(decoded.output("big").longAt(0)));
        assertEquals(7L, decoded.output("big").longAt(1));
        assertEquals(ByteBuffer.wrap(utf8("hi")), decoded.output("words").bytesAt(0));
        assertNull(decoded.version());
        assertEquals("req-9", decoded.id(), "a backend that drops the id still answers the request's");
    }

    @Test
    void metadataRoundTrips() throws BackendException, InvalidProtocolBufferException {
        ModelMetadata metadata = new ModelMetadata("iris", List.of("1", "2"), "onnxruntime_onnx",
                List.of(new TensorMetadata("features", DataType.FP32, List.of(-1L, 4L))),
                List.of(new TensorMetadata("label", DataType.INT64, List.of(-1L))));

        Payload payload = CODEC.encodeMetadata(metadata, exchange("iris", null));

        assertEquals(metadata, CODEC.decodeMetadata(payload, "iris"));
        assertEquals("FP32", ModelMetadataResponse.parseFrom(payload.body()).getInputs(0).getDatatype());
    }
}
