package dev.modelgate.plugins.kservev2.protobuf;

import static dev.modelgate.plugins.kservev2.protobuf.Fixtures.CODEC;
import static dev.modelgate.plugins.kservev2.protobuf.Fixtures.assertSameTensors;
import static dev.modelgate.plugins.kservev2.protobuf.Fixtures.exchange;
import static dev.modelgate.plugins.kservev2.protobuf.Fixtures.rawFloats;
import static dev.modelgate.plugins.kservev2.protobuf.Fixtures.rawInts;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.modelgate.plugins.kservev2.protobuf.inference.InferTensorContents;
import dev.modelgate.plugins.kservev2.protobuf.inference.ModelInferRequest;
import dev.modelgate.plugins.kservev2.protobuf.inference.ModelInferRequest.InferInputTensor;
import dev.modelgate.plugins.kservev2.protobuf.inference.ModelInferResponse;
import dev.modelgate.spi.inference.DataType;
import dev.modelgate.spi.inference.InferenceRequest;
import dev.modelgate.spi.inference.InferenceResponse;
import dev.modelgate.spi.inference.Payload;
import dev.modelgate.spi.inference.Tensor;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The Open Inference Protocol's canonical example (input0 UINT32 [2,2], input1 BOOL [1], output0 FP32 [3,2]) as gRPC
 * messages written with the generated classes' own builders, so the codec is checked against protobuf itself.
 */
class CanonicalExampleTest {

    private static InferInputTensor.Builder input0() {
        return InferInputTensor.newBuilder().setName("input0").setDatatype("UINT32").addShape(2).addShape(2);
    }

    private static InferInputTensor.Builder input1() {
        return InferInputTensor.newBuilder().setName("input1").setDatatype("BOOL").addShape(1);
    }

    private static ModelInferRequest.Builder request() {
        return ModelInferRequest.newBuilder().setModelName("mymodel").setId("42")
                .addOutputs(ModelInferRequest.InferRequestedOutputTensor.newBuilder().setName("output0"));
    }

    private static InferenceRequest decode(ModelInferRequest message) {
        return CODEC.decodeRequest(new Payload("application/x-protobuf", message.toByteArray()),
                exchange("mymodel", null), null);
    }

    @Test
    void typedAndRawContentsDecodeToTheSameTensors() {
        ModelInferRequest typed = request()
                .addInputs(input0().setContents(InferTensorContents.newBuilder()
                        .addUintContents(1).addUintContents(2).addUintContents(3).addUintContents(4)))
                .addInputs(input1().setContents(InferTensorContents.newBuilder().addBoolContents(true)))
                .build();
        ModelInferRequest raw = request().addInputs(input0()).addInputs(input1())
                .addRawInputContents(rawInts(1, 2, 3, 4))
                .addRawInputContents(ByteString.copyFrom(new byte[] {1}))
                .build();

        InferenceRequest fromTyped = decode(typed);
        InferenceRequest fromRaw = decode(raw);

        assertSameTensors(fromTyped.inputs(), fromRaw.inputs());
        Tensor input0 = fromRaw.input("input0");
        assertEquals(DataType.UINT32, input0.type());
        assertEquals(List.of(1L, 2L, 3L, 4L), List.of(input0.longAt(0), input0.longAt(1), input0.longAt(2),
                input0.longAt(3)));
        assertTrue(fromRaw.input("input1").booleanAt(0));
        for (InferenceRequest decoded : List.of(fromTyped, fromRaw)) {
            assertEquals("mymodel", decoded.model());
            assertNull(decoded.version());
            assertEquals("42", decoded.id());
            assertEquals("output0", decoded.outputs().getFirst().name());
        }
    }

    @Test
    void rawInputsStayViewsIntoTheBodyInsteadOfCopies() {
        byte[] body = request().addInputs(input0()).addInputs(input1())
                .addRawInputContents(rawInts(1, 2, 3, 4))
                .addRawInputContents(ByteString.copyFrom(new byte[] {1}))
                .build().toByteArray();
        InferenceRequest decoded = CODEC.decodeRequest(new Payload("application/x-protobuf", body),
                exchange("mymodel", null), null);

        // Seen through the decoded tensor, a change to the body's last byte (input1's one element) shows no copy.
        body[body.length - 1] = 0;

        assertFalse(decoded.input("input1").booleanAt(0));
    }

    @Test
    void theEncodedResponseIsAModelInferResponseWithRawOutputContents() throws InvalidProtocolBufferException {
        InferenceResponse response = new InferenceResponse("mymodel", null, "42",
                List.of(Tensor.ofFloats("output0", new long[] {3, 2}, 1.0f, 1.1f, 2.0f, 2.1f, 3.0f, 3.1f)),
                Map.of());

        Payload payload = CODEC.encodeResponse(response, exchange("mymodel", null));
        ModelInferResponse message = ModelInferResponse.parseFrom(payload.body());

        assertEquals("application/x-protobuf", payload.contentType());
        assertEquals("mymodel", message.getModelName());
        assertEquals("", message.getModelVersion());
        assertEquals("42", message.getId());
        ModelInferResponse.InferOutputTensor output = message.getOutputs(0);
        assertEquals("output0", output.getName());
        assertEquals("FP32", output.getDatatype());
        assertEquals(List.of(3L, 2L), output.getShapeList());
        assertFalse(output.hasContents());
        assertEquals(rawFloats(1.0f, 1.1f, 2.0f, 2.1f, 3.0f, 3.1f), message.getRawOutputContents(0));
    }

    @Test
    void anEncodedRequestParsesWithTheGeneratedClassesAlone() throws InvalidProtocolBufferException {
        InferenceRequest request = decode(request().addInputs(input0()).addInputs(input1())
                .addRawInputContents(rawInts(1, 2, 3, 4))
                .addRawInputContents(ByteString.copyFrom(new byte[] {1}))
                .build());

        ModelInferRequest message = ModelInferRequest.parseFrom(CODEC.encodeRequest(request).body());

        assertEquals(request().addInputs(input0()).addInputs(input1())
                .addRawInputContents(rawInts(1, 2, 3, 4))
                .addRawInputContents(ByteString.copyFrom(new byte[] {1}))
                .build(), message);
    }
}
