package dev.modelgate.plugins.http;

import dev.modelgate.plugins.pool.MetadataCache;
import dev.modelgate.spi.BackendErrorText;
import dev.modelgate.spi.BackendException;
import dev.modelgate.spi.CoreErrors;
import dev.modelgate.spi.Exchange;
import dev.modelgate.spi.Headers;
import dev.modelgate.spi.PluginContext;
import dev.modelgate.spi.RejectionException;
import dev.modelgate.spi.Response;
import dev.modelgate.spi.inference.InferenceBackend;
import dev.modelgate.spi.inference.InferenceCodec;
import dev.modelgate.spi.inference.InferenceRequest;
import dev.modelgate.spi.inference.InferenceResponse;
import dev.modelgate.spi.inference.ModelMetadata;
import dev.modelgate.spi.inference.Payload;
import dev.modelgate.spi.inference.RequestedOutput;
import java.util.List;
import java.util.function.LongSupplier;

/**
 * An {@code http} backend with a {@code protocol}: a model server speaking TF Serving or KServe v2. Clients of the
 * same dialect are forwarded as they are ({@link HttpBackend#forward}); clients of any other dialect reach it through
 * the tensor model, encoded with the protocol's JSON codec. Model metadata is asked of the server and kept for a
 * while, so decoders can name and type inputs.
 */
final class InferenceHttpBackend extends HttpBackend implements InferenceBackend {

    private final InferenceCodec codec;
    private final MetadataCache metadata;
    private final System.Logger log;

    InferenceHttpBackend(HttpBackendSettings settings, PluginContext context, String name, LongSupplier nanoTime,
            InferenceCodec codec) {
        super(settings, context, name, nanoTime);
        this.codec = codec;
        this.metadata = new MetadataCache(nanoTime);
        this.log = context.logger();
    }

    @Override
    public InferenceResponse infer(InferenceRequest request, Exchange exchange) throws BackendException {
        Payload encoded = codec.encodeRequest(request);
        // The answer must be in the codec's type, whatever the client accepts: the client's Accept is for the gateway.
        Headers bodyHeaders = new Headers(encoded.headers()).set("Content-Type", encoded.contentType())
                .set("Accept", codec.mediaType());
        String path = DialectPaths.call(dialect(), backendModel(request.model()), request.version(), "infer");
        Response answer = send(exchange, new Outgoing("POST", path, encoded.body(), bodyHeaders), false);
        return codec.decodeResponse(payloadOf(answer, exchange), naming(request, exchange));
    }

    /**
     * The request as the decoder should see it to name the outputs: a TF Serving server drops the name of a lone
     * output, which the model's metadata gives back when the request asked for no output by name.
     */
    private InferenceRequest naming(InferenceRequest request, Exchange exchange) {
        if (!request.outputs().isEmpty()) {
            return request;
        }
        ModelMetadata known;
        try {
            known = metadata(request.model(), exchange);
        } catch (BackendException | RejectionException e) {
            return request;
        }
        List<RequestedOutput> outputs = known.outputs().stream().map(output -> new RequestedOutput(output.name()))
                .toList();
        return new InferenceRequest(request.model(), request.version(), request.id(), request.inputs(), outputs,
                request.parameters());
    }

    /** The server's metadata of {@code model}, asked at most every 30 seconds. */
    @Override
    public ModelMetadata metadata(String model, Exchange exchange) throws BackendException {
        return metadata.get(model, name -> codec.decodeMetadata(payloadOf(send(exchange, new Outgoing("GET",
                DialectPaths.metadata(dialect(), backendModel(name)), null,
                new Headers().set("Accept", codec.mediaType())), false), exchange), name));
    }

    /**
     * The body of a successful answer; a refusal by the server becomes the client's error with the server's own
     * message, cleaned (see {@link BackendErrorText}): 4xx a rejected request, 5xx a failed backend.
     */
    private Payload payloadOf(Response answer, Exchange exchange) {
        int status = answer.status();
        byte[] body = answer.body().bytes();
        if (status < 200 || status >= 300) {
            String detail = BackendErrorText.detail(status, body, exchange, log);
            throw new RejectionException(CoreErrors.ofBackendStatus(status), detail);
        }
        Headers headers = new Headers();
        answer.forEachHeader(headers::add);
        String contentType = answer.header("Content-Type");
        return new Payload(contentType == null ? "application/json" : contentType, headers, body);
    }
}
