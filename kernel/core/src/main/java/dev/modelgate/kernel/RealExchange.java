package dev.modelgate.kernel;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.modelgate.spi.Attribute;
import dev.modelgate.spi.Body;
import dev.modelgate.spi.ClientAddress;
import dev.modelgate.spi.CoreErrors;
import dev.modelgate.spi.ErrorCode;
import dev.modelgate.spi.Exchange;
import dev.modelgate.spi.Headers;
import dev.modelgate.spi.Operation;
import dev.modelgate.spi.RejectionException;
import dev.modelgate.spi.Response;
import java.io.IOException;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;

/** The kernel's {@link Exchange} over a request of any {@link Transport}, used on the request's virtual thread only. */
final class RealExchange implements Exchange {

    /** Headers the gateway sets for backends (subject, roles); a client's own are dropped, never trusted. */
    static final String GATEWAY_HEADER_PREFIX = "X-Modelgate-";

    private final Transport transport;
    private final FrontCall call;
    private final Front front;
    private final String apiVersion;
    private final String backendName;
    private final long startNanos;
    private final long deadlineNanos;
    private final boolean idempotent;
    private final boolean acceptsNonFinite;
    private final RequestBody body;
    private final long maxBodyBytes;
    private final ClientAddress clientAddress;
    private String resolvedClientAddress;
    private byte[] decodedBody;
    private final Headers requestHeaders;
    private final Map<Attribute<?>, Object> attributes = new IdentityHashMap<>(4);
    private List<Consumer<Throwable>> completionListeners;
    private JsonNode json;

    /**
     * @param requestHeaders the headers the pipeline sees, already rid of what must not pass; owned by the exchange
     * @param call what the request asks; {@code front} alone matters when the request names nothing
     * @param front the front whose error shape the request's errors take
     * @param acceptsNonFinite whether the route's model takes NaN and infinite input values
     */
    RealExchange(Transport transport, Headers requestHeaders, FrontCall call, Front front, String apiVersion,
            String backendName, long startNanos, long deadlineNanos, boolean idempotent, boolean acceptsNonFinite,
            RequestBody body, long maxBodyBytes, ClientAddress clientAddress) {
        this.transport = transport;
        this.requestHeaders = requestHeaders;
        this.clientAddress = clientAddress;
        this.call = call;
        this.front = front;
        this.maxBodyBytes = maxBodyBytes;
        this.apiVersion = apiVersion;
        this.backendName = backendName;
        this.startNanos = startNanos;
        this.deadlineNanos = deadlineNanos;
        this.idempotent = idempotent;
        this.acceptsNonFinite = acceptsNonFinite;
        this.body = body;
    }

    /** Whether {@code name} is one of the headers only the gateway sets. */
    static boolean isGatewayHeader(String name) {
        return name.regionMatches(true, 0, GATEWAY_HEADER_PREFIX, 0, GATEWAY_HEADER_PREFIX.length());
    }

    @Override
    public String method() {
        return transport.method();
    }

    @Override
    public String path() {
        return transport.path();
    }

    @Override
    public String queryParameter(String name) {
        return transport.queryParameter(name);
    }

    @Override
    public Headers requestHeaders() {
        return requestHeaders;
    }

    @Override
    public String clientAddress() {
        if (resolvedClientAddress == null) {
            resolvedClientAddress = clientAddress.of(peerAddress(), requestHeaders);
        }
        return resolvedClientAddress;
    }

    @Override
    public String peerAddress() {
        return transport.peerAddress();
    }

    @Override
    public Operation operation() {
        return call == null ? Operation.OTHER : call.operation();
    }

    @Override
    public String model() {
        return call == null ? null : call.model();
    }

    @Override
    public String dialect() {
        return front.dialect();
    }

    @Override
    public String modelVersion() {
        return call == null ? null : call.modelVersion();
    }

    @Override
    public String verb() {
        return call == null ? null : call.verb();
    }

    Front front() {
        return front;
    }

    @Override
    public String apiVersion() {
        return apiVersion;
    }

    @Override
    public String backendName() {
        return backendName;
    }

    @Override
    public long startNanos() {
        return startNanos;
    }

    @Override
    public long deadlineNanos() {
        return deadlineNanos;
    }

    @Override
    public boolean idempotent() {
        return idempotent;
    }

    /** Whether the route's model declares it takes NaN and infinite input values ({@code accepts-non-finite}). */
    boolean acceptsNonFinite() {
        return acceptsNonFinite;
    }

    /**
     * The body as the client meant it: a {@code Content-Encoding: gzip} body is inflated here, on the request's
     * virtual thread, within the body limit, and the header dropped so that backends get what they read.
     */
    @Override
    public byte[] body() {
        if (decodedBody == null) {
            byte[] bytes = body.bytesOrThrow();
            String encoding = requestHeaders.first("Content-Encoding");
            if (encoding != null) {
                bytes = ContentEncoding.decode(encoding, bytes, maxBodyBytes);
                requestHeaders.remove("Content-Encoding");
            }
            decodedBody = bytes;
        }
        return decodedBody;
    }

    @Override
    public JsonNode json() {
        if (json == null) {
            json = parseJson();
        }
        return json;
    }

    private JsonNode parseJson() {
        String contentType = requestHeaders.first("Content-Type");
        if (contentType != null && !isJson(contentType)) {
            throw new RejectionException(CoreErrors.UNSUPPORTED_MEDIA_TYPE,
                    "expected application/json, but was " + contentType);
        }
        byte[] bytes = body();
        if (bytes.length == 0) {
            throw new RejectionException(CoreErrors.MALFORMED_JSON, "the body is empty");
        }
        try {
            return Envelope.JSON.readTree(bytes);
        } catch (JacksonException e) {
            throw Envelope.malformed(e);
        } catch (IOException e) {
            throw new RejectionException(CoreErrors.MALFORMED_JSON, e.getMessage());
        }
    }

    private static boolean isJson(String contentType) {
        String mediaType = contentType.split(";", 2)[0].trim().toLowerCase(Locale.ROOT);
        return mediaType.equals("application/json") || mediaType.endsWith("+json");
    }

    /**
     * Listeners run once the transport says the answer is written or failed, each once, a throwing one not keeping
     * the others from running.
     */
    @Override
    public void onComplete(Consumer<Throwable> listener) {
        if (completionListeners == null) {
            completionListeners = new ArrayList<>(2);
            List<Consumer<Throwable>> listeners = completionListeners;
            transport.whenComplete(failure -> {
                for (Consumer<Throwable> each : listeners) {
                    try {
                        each.accept(failure);
                    } catch (RuntimeException e) {
                        System.getLogger(RealExchange.class.getName()).log(System.Logger.Level.ERROR,
                                "a completion listener failed", e);
                    }
                }
            });
        }
        completionListeners.add(listener);
    }

    @Override
    public void onClientGone(Runnable listener) {
        transport.whenClientGone(listener);
    }

    @Override
    @SuppressWarnings("unchecked")
    public <T> T attribute(Attribute<T> key) {
        return (T) attributes.get(key);
    }

    @Override
    public <T> void setAttribute(Attribute<T> key, T value) {
        attributes.put(key, value);
    }

    /** An error in the shape of the front the request came in on. */
    @Override
    public Response error(ErrorCode errorCode, String detail) {
        return front.error(errorCode, detail);
    }
}
