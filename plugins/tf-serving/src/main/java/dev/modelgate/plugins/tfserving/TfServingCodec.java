package dev.modelgate.plugins.tfserving;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.io.JsonEOFException;
import com.fasterxml.jackson.core.util.JsonRecyclerPools;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.modelgate.spi.Attribute;
import dev.modelgate.spi.BackendException;
import dev.modelgate.spi.CoreErrors;
import dev.modelgate.spi.Exchange;
import dev.modelgate.spi.Json;
import dev.modelgate.spi.RejectionException;
import dev.modelgate.spi.inference.InferenceCodec;
import dev.modelgate.spi.inference.InferenceRequest;
import dev.modelgate.spi.inference.InferenceResponse;
import dev.modelgate.spi.inference.ModelMetadata;
import dev.modelgate.spi.inference.Payload;
import dev.modelgate.spi.inference.RequestedOutput;
import dev.modelgate.spi.inference.Tensor;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.msgpack.core.MessagePackException;
import org.msgpack.jackson.dataformat.MessagePackFactory;

/**
 * The TensorFlow Serving REST dialect ({@code tf-serving}) over one Jackson format: JSON, or MessagePack with the
 * same keys and nesting (and bin values allowed wherever {@code {"b64": ...}} is). Both are the same code over a
 * different {@link JsonFactory}.
 *
 * <p>Thread-safe and stateless: a request's form (row, columnar, classify, regress) travels in the exchange, from
 * {@link #decodeRequest} to {@link #encodeResponse}.
 */
final class TfServingCodec implements InferenceCodec {

    static final String DIALECT = "tf-serving";

    /** How the client's request was shaped; an answer without it is shaped by the verb (predict as columnar). */
    private static final Attribute<Form> FORM = Attribute.named("tf-serving.form");

    private static final String UNNAMED_OUTPUT = "output_0";

    private final String mediaType;
    private final Set<String> reads;
    private final JsonFactory factory;
    private final ObjectMapper mapper;
    private final boolean json;

    private TfServingCodec(String mediaType, Set<String> reads, JsonFactory factory, boolean json) {
        this.mediaType = mediaType;
        this.reads = reads;
        this.factory = factory;
        this.mapper = new ObjectMapper(factory);
        this.json = json;
    }

    /** JSON, with TF Serving's {@code NaN}, {@code Infinity} and {@code -Infinity} tokens read and written bare. */
    static TfServingCodec json() {
        return new TfServingCodec("application/json", Set.of("application/json"), Json.MODEL_SERVER_FACTORY, true);
    }

    /** MessagePack, read under either of its media types. */
    static TfServingCodec msgpack() {
        MessagePackFactory factory = new MessagePackFactory()
                // Its reuse is per thread, which a virtual thread per request never reuses.
                .setReuseResourceInParser(false)
                .setReuseResourceInGenerator(false);
        factory.setRecyclerPool(JsonRecyclerPools.sharedBoundedPool());
        return new TfServingCodec("application/msgpack", Set.of("application/msgpack", "application/x-msgpack"),
                factory, false);
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
        return reads.contains(type);
    }

    /**
     * {@inheritDoc}
     *
     * <p>The call's verb picks the body: {@code classify} and {@code regress} take examples, anything else is a
     * predict. {@code signature_name} is passed on as the parameter of that name.
     *
     * @throws RejectionException with {@link CoreErrors#MALFORMED_JSON} (JSON) or {@link CoreErrors#MALFORMED_BODY}
     *     (MessagePack) for a body that does not parse, trailing content included
     */
    @Override
    public InferenceRequest decodeRequest(Payload payload, Exchange exchange, ModelMetadata metadata) {
        TfBodyReader.Body body = read(payload, TfBodyReader.Verb.of(exchange.verb()), Signature.ofInputs(metadata));
        exchange.setAttribute(FORM, body.form());
        Map<String, Object> parameters = body.signatureName() == null ? Map.of()
                : Map.of(TfBodyWriter.SIGNATURE_NAME, body.signatureName());
        return new InferenceRequest(exchange.model(), exchange.modelVersion(), null, body.tensors(), List.of(),
                parameters);
    }

    /**
     * {@inheritDoc}
     *
     * @throws RejectionException with {@link CoreErrors#BACKEND_ERROR} when the outputs cannot take the answer's
     *     shape: differing batch sizes for a row request, a classify answer without classes or scores
     */
    @Override
    public Payload encodeResponse(InferenceResponse response, Exchange exchange) {
        Form form = exchange.attribute(FORM);
        if (form == null) {
            form = switch (TfBodyReader.Verb.of(exchange.verb())) {
                case CLASSIFY -> Form.CLASSIFY;
                case REGRESS -> Form.REGRESS;
                default -> Form.COLUMNAR;
            };
        }
        Form answer = form;
        return write(generator -> TfBodyWriter.writeAnswer(generator, answer, response.outputs()));
    }

    @Override
    public Payload encodeRequest(InferenceRequest request) {
        return write(generator -> TfBodyWriter.writeRequest(generator, request));
    }

    /**
     * {@inheritDoc}
     *
     * <p>Takes {@code outputs} and {@code predictions} answers alike, data types inferred from the values. An
     * unnamed output is named after the one output the request asked for, else {@code output_0}.
     */
    @Override
    public InferenceResponse decodeResponse(Payload payload, InferenceRequest request) throws BackendException {
        List<RequestedOutput> requested = request.outputs();
        String unnamed = requested.size() == 1 ? requested.getFirst().name() : UNNAMED_OUTPUT;
        List<Tensor> outputs;
        try {
            outputs = read(payload, TfBodyReader.Verb.ANSWER, Signature.open(unnamed)).tensors();
        } catch (RejectionException e) {
            throw protocol("not a TF Serving predict answer: " + e.getMessage(), e);
        }
        return new InferenceResponse(request.model(), request.version(), request.id(), outputs, Map.of());
    }

    /** {@inheritDoc} The version is the one the call names, else the latest the metadata lists. */
    @Override
    public Payload encodeMetadata(ModelMetadata metadata, Exchange exchange) {
        String version = TfMetadata.version(metadata, exchange.modelVersion());
        return write(generator -> TfMetadata.write(generator, metadata, version));
    }

    @Override
    public ModelMetadata decodeMetadata(Payload payload, String model) throws BackendException {
        try {
            JsonNode root = mapper.readTree(payload.body());
            if (root == null || !root.isObject()) {
                throw protocol("TF Serving metadata must be an object", null);
            }
            return TfMetadata.read(root, model);
        } catch (IOException | IllegalArgumentException | MessagePackException e) {
            throw protocol("not valid TF Serving metadata: " + e.getMessage(), e);
        }
    }

    /** Reads a whole body of {@code verb}, rejecting anything after it. */
    private TfBodyReader.Body read(Payload payload, TfBodyReader.Verb verb, Signature signature) {
        try (JsonParser parser = factory.createParser(payload.body())) {
            TfBodyReader.Body body = new TfBodyReader(parser).read(verb, signature);
            if (!atEnd(parser)) {
                throw malformed("trailing content after the body's object", parser.currentLocation());
            }
            return body;
        } catch (JsonProcessingException e) {
            throw malformed(Json.problem(e), null); // the problem says where
        } catch (IOException | MessagePackException e) {
            throw malformed(e.getMessage(), null);
        }
    }

    /**
     * Whether the input ends where the parser is: JSON's parser then has no next token, MessagePack's throws
     * {@link JsonEOFException} before reading a byte (other faults of a trailing value it reports otherwise).
     */
    private boolean atEnd(JsonParser parser) throws IOException {
        try {
            return parser.nextToken() == null;
        } catch (JsonEOFException e) {
            if (json) {
                throw e;
            }
            return true;
        }
    }

    private RejectionException malformed(String detail, JsonLocation location) {
        if (!json) {
            return InferenceCodec.malformed(mediaType, detail);
        }
        String where = location == null ? "" : " at line " + location.getLineNr() + ", column "
                + location.getColumnNr();
        return new RejectionException(CoreErrors.MALFORMED_JSON, detail + where);
    }

    private interface Body {
        void write(JsonGenerator generator) throws IOException;
    }

    private Payload write(Body body) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(256);
        try (JsonGenerator generator = factory.createGenerator(out, JsonEncoding.UTF8)) {
            body.write(generator);
        } catch (IOException e) {
            // Only the generator's own misuse can fail here: the bytes go to memory.
            throw new UncheckedIOException(e);
        }
        return new Payload(mediaType, out.toByteArray());
    }

    private static BackendException protocol(String message, Throwable cause) {
        return new BackendException(BackendException.Kind.PROTOCOL, message, cause);
    }
}
