package dev.modelgate.plugins.kservev2;

import static dev.modelgate.plugins.kservev2.WireReader.invalid;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.io.JsonEOFException;
import com.fasterxml.jackson.core.util.JsonRecyclerPools;
import dev.modelgate.spi.Attribute;
import dev.modelgate.spi.BackendException;
import dev.modelgate.spi.CoreErrors;
import dev.modelgate.spi.Exchange;
import dev.modelgate.spi.Headers;
import dev.modelgate.spi.Json;
import dev.modelgate.spi.RejectionException;
import dev.modelgate.spi.inference.DataType;
import dev.modelgate.spi.inference.InferenceCodec;
import dev.modelgate.spi.inference.InferenceRequest;
import dev.modelgate.spi.inference.InferenceResponse;
import dev.modelgate.spi.inference.ItemError;
import dev.modelgate.spi.inference.ModelMetadata;
import dev.modelgate.spi.inference.Payload;
import dev.modelgate.spi.inference.RequestedOutput;
import dev.modelgate.spi.inference.Tensor;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;
import org.msgpack.core.MessagePackException;
import org.msgpack.jackson.dataformat.MessagePackFactory;

/**
 * The Open Inference Protocol (KServe v2) REST messages over one Jackson format: JSON, with Triton's binary tensor
 * data extension, or MessagePack, the same object model over the MessagePack factory.
 *
 * <p>Binary tensor data: a body with {@code Inference-Header-Content-Length} is read as that many bytes of header
 * then the binary section (see {@link BinarySection}); a length of 0 is a raw binary request (see {@link RawInput}).
 * In JSON, a response's outputs go to the binary section when the request asked for it and also, as JSON cannot carry
 * them, BYTES outputs that are not UTF-8; requests to a backend send FP16 and non-UTF-8 BYTES inputs binary, since
 * Triton refuses FP16 in JSON, and everything else as JSON so that any server takes it. MessagePack carries every
 * value natively (BYTES as bin when not UTF-8), so its codec writes no binary section.
 *
 * <p>NaN and infinities are read and written as the bare tokens Triton and Python's {@code json} use.
 *
 * <p>Thread-safe and stateless; the per-request answer shape lives in an exchange attribute.
 */
final class KServeV2Codec implements InferenceCodec {

    static final String DIALECT = "kserve-v2";

    private static final Attribute<ResponsePlan> PLAN = Attribute.named("kserve-v2.response-plan");
    private static final ResponsePlan NO_PLAN = new ResponsePlan(null, List.of(), false, Set.of());

    private final JsonFactory factory;
    private final String mediaType;
    private final Set<String> readable;
    private final boolean json;

    private KServeV2Codec(JsonFactory factory, String mediaType, Set<String> readable, boolean json) {
        this.factory = factory;
        this.mediaType = mediaType;
        this.readable = readable;
        this.json = json;
    }

    /** {@code application/json}, reading Triton's {@code application/octet-stream} binary bodies too. */
    static KServeV2Codec json() {
        return new KServeV2Codec(Json.MODEL_SERVER_FACTORY, "application/json", Set.of("application/json", BinarySection.MEDIA_TYPE),
                true);
    }

    /** {@code application/msgpack}, reading {@code application/x-msgpack} too. */
    static KServeV2Codec msgpack() {
        // Its own buffer reuse is per thread, which a virtual thread per request defeats: share a bounded pool.
        MessagePackFactory factory = new MessagePackFactory()
                .setReuseResourceInParser(false)
                .setReuseResourceInGenerator(false);
        factory.setRecyclerPool(JsonRecyclerPools.sharedBoundedPool());
        return new KServeV2Codec(factory, "application/msgpack",
                Set.of("application/msgpack", "application/x-msgpack"), false);
    }

    @Override
    public String dialect() {
        return DIALECT;
    }

    @Override
    public String mediaType() {
        return mediaType;
    }

    @Override
    public boolean reads(String type) {
        return readable.contains(type);
    }

    /**
     * {@inheritDoc}
     *
     * <p>Fixed-size tensors from the binary section are views of the payload's body, which must not change after.
     * Input parameters other than {@code binary_data_size} are dropped, as tensors carry none.
     */
    @Override
    public InferenceRequest decodeRequest(Payload payload, Exchange exchange, ModelMetadata metadata) {
        byte[] body = payload.body();
        int headerLength = BinarySection.headerLength(payload);
        InferenceRequest request;
        if (headerLength == 0) {
            Tensor input = RawInput.decode(body, metadata);
            request = new InferenceRequest(exchange.model(), exchange.modelVersion(), null, List.of(input),
                    List.of(), Map.of());
        } else {
            int end = headerLength < 0 ? body.length : headerLength;
            Message message = parse(body, end, payload.mediaType(), parser -> Message.read(parser, true));
            if (message.tensors() == null) {
                throw invalid("the request: missing 'inputs'");
            }
            request = new InferenceRequest(exchange.model(), exchange.modelVersion(), message.id(),
                    BinarySection.resolve(message.tensors(), body, end), message.outputs(), message.parameters());
        }
        exchange.setAttribute(PLAN, ResponsePlan.of(request, headerLength == 0));
        return request;
    }

    @Override
    public Payload encodeResponse(InferenceResponse response, Exchange exchange) {
        ResponsePlan plan = exchange.attribute(PLAN);
        ResponsePlan answer = plan == null ? NO_PLAN : plan;
        String id = response.id() != null ? response.id() : answer.id();
        return write((generator, binaries) -> {
            generator.writeStartObject();
            generator.writeStringField("model_name", response.model() != null ? response.model() : exchange.model());
            if (response.version() != null) {
                generator.writeStringField("model_version", response.version());
            }
            if (id != null) {
                generator.writeStringField("id", id);
            }
            WireWriter.parameters(generator, response.parameters());
            tensors(generator, "outputs", answer.outputs(response),
                    output -> answer.binary(output.name()) || !carriesInline(output), binaries);
            generator.writeEndObject();
        });
    }

    @Override
    public Payload encodeRequest(InferenceRequest request) {
        return write((generator, binaries) -> {
            generator.writeStartObject();
            if (request.id() != null) {
                generator.writeStringField("id", request.id());
            }
            WireWriter.parameters(generator, request.parameters());
            tensors(generator, "inputs", request.inputs(),
                    input -> input.type() == DataType.FP16 || !carriesInline(input), binaries);
            if (!request.outputs().isEmpty()) {
                generator.writeArrayFieldStart("outputs");
                for (RequestedOutput output : request.outputs()) {
                    generator.writeStartObject();
                    generator.writeStringField("name", output.name());
                    WireWriter.parameters(generator, output.parameters());
                    generator.writeEndObject();
                }
                generator.writeEndArray();
            }
            generator.writeEndObject();
        });
    }

    @Override
    public InferenceResponse decodeResponse(Payload payload, InferenceRequest request) throws BackendException {
        try {
            byte[] body = payload.body();
            int headerLength = BinarySection.headerLength(payload);
            int end = headerLength < 0 ? body.length : headerLength;
            Message message = parse(body, end, payload.mediaType(), parser -> Message.read(parser, false));
            if (message.tensors() == null) {
                throw invalid("the response: missing 'outputs'");
            }
            List<Tensor> outputs = BinarySection.resolve(message.tensors(), body, end);
            checkItems(message.itemErrors(), outputs);
            return new InferenceResponse(message.model() != null ? message.model() : request.model(),
                    message.version(), message.id(), outputs, message.parameters(), message.itemErrors());
        } catch (RejectionException e) {
            throw protocolError("inference answer", e);
        }
    }

    /** Each failed item must be one the outputs have a row for, and named once. */
    private static void checkItems(List<ItemError> itemErrors, List<Tensor> outputs) {
        Set<Integer> seen = new HashSet<>();
        for (ItemError item : itemErrors) {
            for (Tensor output : outputs) {
                if (output.rank() == 0 || item.index() >= output.dimension(0)) {
                    throw invalid("item_errors names item " + item.index() + ", but output '" + output.name()
                            + "' has shape " + Arrays.toString(output.shape()));
                }
            }
            if (!seen.add(item.index())) {
                throw invalid("item_errors names item " + item.index() + " twice");
            }
        }
    }

    @Override
    public Payload encodeMetadata(ModelMetadata metadata, Exchange exchange) {
        return write((generator, binaries) -> MetadataWire.write(generator, metadata));
    }

    @Override
    public ModelMetadata decodeMetadata(Payload payload, String model) throws BackendException {
        try {
            byte[] body = payload.body();
            return parse(body, body.length, payload.mediaType(), parser -> MetadataWire.read(parser, model));
        } catch (RejectionException e) {
            throw protocolError("metadata answer", e);
        }
    }

    /** Whether the format carries the tensor inline: MessagePack every one, JSON all but non-UTF-8 BYTES. */
    private boolean carriesInline(Tensor tensor) {
        return !json || tensor.type() != DataType.BYTES || WireWriter.isText(tensor);
    }

    private void tensors(JsonGenerator generator, String field, List<Tensor> tensors, Predicate<Tensor> binary,
            List<Tensor> binaries) throws IOException {
        generator.writeArrayFieldStart(field);
        for (Tensor tensor : tensors) {
            boolean inBinary = json && binary.test(tensor);
            WireWriter.tensor(generator, tensor, inBinary);
            if (inBinary) {
                binaries.add(tensor);
            }
        }
        generator.writeEndArray();
    }

    /** Writes the header, then the binary section of the tensors the header gave a binary_data_size, if any. */
    private Payload write(MessageWriter writer) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(512);
        List<Tensor> binaries = new ArrayList<>();
        try (JsonGenerator generator = factory.createGenerator(out)) {
            writer.write(generator, binaries);
        } catch (IOException e) {
            throw new UncheckedIOException("writing to memory failed", e);
        }
        if (binaries.isEmpty()) {
            return new Payload(mediaType, out.toByteArray());
        }
        int headerLength = out.size();
        for (Tensor tensor : binaries) {
            BinarySection.write(tensor, out);
        }
        Headers headers = new Headers().set(BinarySection.HEADER_LENGTH, Integer.toString(headerLength));
        return new Payload(BinarySection.MEDIA_TYPE, headers, out.toByteArray());
    }

    /** Parses the first {@code length} bytes of {@code body} as one value, mapping syntax errors by format. */
    private <T> T parse(byte[] body, int length, String bodyType, MessageReader<T> reader) {
        try (JsonParser parser = factory.createParser(body, 0, length)) {
            if (parser.nextToken() == null) {
                throw syntaxError(bodyType, "the body is empty");
            }
            T value = reader.read(parser);
            if (followedByMore(parser)) {
                throw syntaxError(bodyType, "content follows the message");
            }
            return value;
        } catch (JsonProcessingException e) {
            throw syntaxError(bodyType, Json.problem(e));
        } catch (IOException | MessagePackException e) {
            throw syntaxError(bodyType, e.getMessage());
        }
    }

    /** Whether a token follows the message just read. */
    private boolean followedByMore(JsonParser parser) throws IOException {
        try {
            return parser.nextToken() != null;
        } catch (JsonEOFException e) {
            // MessagePackParser reports the end of its input as this error rather than as null; in JSON it means
            // trailing content that breaks off.
            if (json) {
                throw e;
            }
            return false;
        }
    }

    private RejectionException syntaxError(String bodyType, String detail) {
        return json ? new RejectionException(CoreErrors.MALFORMED_JSON, detail)
                : InferenceCodec.malformed(bodyType, detail);
    }

    private static BackendException protocolError(String what, RejectionException cause) {
        return new BackendException(BackendException.Kind.PROTOCOL,
                "the backend's " + DIALECT + " " + what + " cannot be read: " + cause.getMessage(), cause);
    }

    @FunctionalInterface
    private interface MessageWriter {
        void write(JsonGenerator generator, List<Tensor> binaries) throws IOException;
    }

    @FunctionalInterface
    private interface MessageReader<T> {
        T read(JsonParser parser) throws IOException;
    }
}
