package dev.modelgate.plugins.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.modelgate.spi.Backend;
import dev.modelgate.spi.BackendException;
import dev.modelgate.spi.Body;
import dev.modelgate.spi.Exchange;
import dev.modelgate.spi.Headers;
import dev.modelgate.spi.Principal;
import dev.modelgate.spi.Response;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.util.List;
import java.util.TreeSet;
import org.apache.hc.client5.http.ClientProtocolException;
import org.apache.hc.client5.http.ConnectTimeoutException;
import org.apache.hc.client5.http.classic.methods.HttpPost;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.core5.http.ClassicHttpResponse;
import org.apache.hc.core5.http.ConnectionRequestTimeoutException;
import org.apache.hc.core5.http.Header;
import org.apache.hc.core5.http.HttpEntity;
import org.apache.hc.core5.http.HttpHeaders;
import org.apache.hc.core5.http.MalformedChunkCodingException;
import org.apache.hc.core5.http.io.entity.ByteArrayEntity;
import org.apache.hc.core5.io.CloseMode;

/**
 * Posts the request body as it came to one URL over pooled keep-alive connections and returns the backend's status,
 * content type and body unchanged: the reverse proxy the seed article sketches, with the pooling, timeouts and error
 * mapping it lacks.
 *
 * <p>Thread-safety: {@link #predict} is called concurrently from many virtual threads; it blocks on the network, at
 * most {@code max-connections} calls at once, the others waiting up to {@code pool-timeout} for a connection.
 */
final class HttpBackend implements Backend {

    private static final List<String> BODY_HEADERS = List.of(HttpHeaders.CONTENT_TYPE, HttpHeaders.CONTENT_ENCODING);

    /** Who the request authenticated as; backends may trust them, as the kernel drops any a client sends. */
    private static final String SUBJECT_HEADER = "X-Modelgate-Subject";
    private static final String ROLES_HEADER = "X-Modelgate-Roles";

    private final HttpBackendSettings settings;
    private final CloseableHttpClient client;

    /** Takes ownership of {@code client}, which owns its connection pool. */
    HttpBackend(HttpBackendSettings settings, CloseableHttpClient client) {
        this.settings = settings;
        this.client = client;
    }

    @Override
    public Response predict(Exchange exchange) throws BackendException {
        HttpPost request = new HttpPost(settings.url());
        Headers incoming = exchange.requestHeaders();
        for (String name : settings.forwardHeaders()) {
            incoming.all(name).forEach(value -> request.addHeader(name, value));
        }
        // The body goes as it came, so the headers that describe it go too, as the client wrote them.
        for (String name : BODY_HEADERS) {
            String value = incoming.first(name);
            if (value != null) {
                request.setHeader(name, value);
            }
        }
        Principal principal = exchange.attribute(Principal.ATTRIBUTE);
        if (principal != null) {
            request.setHeader(SUBJECT_HEADER, principal.subject());
            // Sorted, so that a backend or its cache sees one spelling per set of roles.
            request.setHeader(ROLES_HEADER, String.join(",", new TreeSet<>(principal.roles())));
        }
        request.setEntity(new ByteArrayEntity(exchange.body(), null));
        try (ClassicHttpResponse response = client.executeOpen(null, request, null)) {
            return toResponse(response);
        } catch (IOException e) {
            throw failure(e);
        }
    }

    private Response toResponse(ClassicHttpResponse response) throws IOException, BackendException {
        Headers headers = new Headers();
        Header contentType = response.getFirstHeader(HttpHeaders.CONTENT_TYPE);
        if (contentType != null) {
            headers.set(HttpHeaders.CONTENT_TYPE, contentType.getValue());
        }
        return new Response(response.getCode(), headers, Body.of(body(response.getEntity())), 0);
    }

    /**
     * Reads the whole body. Reading to its end hands the connection back to the pool; a body past the limit is left
     * unread, so closing the response closes the connection instead.
     */
    private byte[] body(HttpEntity entity) throws IOException, BackendException {
        if (entity == null) {
            return new byte[0];
        }
        int limit = settings.maxResponseBytes();
        if (entity.getContentLength() > limit) {
            throw tooLarge();
        }
        try (InputStream in = entity.getContent()) {
            long declared = entity.getContentLength();
            if (declared >= 0) {
                // The usual case: one array of the exact size, not the growing chunks of an open-ended read.
                return in.readNBytes((int) declared);
            }
            byte[] bytes = in.readNBytes(limit + 1);
            if (bytes.length > limit) {
                throw tooLarge();
            }
            return bytes;
        }
    }

    private BackendException tooLarge() {
        return new BackendException(BackendException.Kind.PROTOCOL,
                "the response is larger than the limit of " + settings.maxResponseBytes() + " bytes", null);
    }

    /**
     * Maps a failed call to what the client is told: could not reach, reached but no answer in time, or garbled. The
     * messages name no host; the cause keeps the detail for the gateway's log.
     */
    private static BackendException failure(IOException e) {
        if (e instanceof ConnectException
                || e instanceof ConnectTimeoutException
                || e instanceof NoRouteToHostException
                || e instanceof UnknownHostException) {
            return new BackendException(BackendException.Kind.UNAVAILABLE, "cannot connect to the backend", e);
        }
        if (e instanceof ConnectionRequestTimeoutException) {
            return new BackendException(BackendException.Kind.UNAVAILABLE,
                    "no free connection: every pooled connection stayed in use", e);
        }
        if (e instanceof SocketTimeoutException) {
            return new BackendException(BackendException.Kind.TIMEOUT, "no response in time", e);
        }
        if (e instanceof ClientProtocolException || e instanceof MalformedChunkCodingException) {
            return new BackendException(BackendException.Kind.PROTOCOL, "malformed response", e);
        }
        // The connection broke: reset, or closed before the whole response came.
        return new BackendException(BackendException.Kind.UNAVAILABLE, "connection to the backend failed", e);
    }

    /** Type and model name only: the URL stays private, as it may name internal hosts. */
    @Override
    public JsonNode metadata() {
        ObjectNode metadata = JsonNodeFactory.instance.objectNode().put("type", "http");
        if (settings.modelName() != null) {
            metadata.put("model", settings.modelName());
        }
        return metadata;
    }

    @Override
    public void close() {
        client.close(CloseMode.GRACEFUL);
    }
}
