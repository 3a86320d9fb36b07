package dev.modelgate.plugins.circuitbreaker;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.modelgate.spi.BackendCall;
import dev.modelgate.spi.BackendResult;
import dev.modelgate.spi.ErrorCode;
import dev.modelgate.spi.Json;
import dev.modelgate.spi.PluginContext;
import dev.modelgate.spi.Response;
import java.io.UncheckedIOException;
import java.util.concurrent.TimeUnit;

/** What a call gets instead of reaching a backend whose circuit does not permit one. Immutable, thread-safe. */
sealed interface Fallback {

    /** The result of {@code call}, which the circuit refused as {@code denied} says. */
    BackendResult answer(BackendCall call, CircuitBreaker.Denied denied);

    /** No fallback: 503 with the circuit-open code and {@code Retry-After}, the seconds until a call may go through. */
    record Reject(ErrorCode circuitOpen) implements Fallback {
        @Override
        public BackendResult answer(BackendCall call, CircuitBreaker.Denied denied) {
            // Rounded up, and at least 1: "Retry-After: 0" invites a client to hammer a circuit about to half-open.
            long seconds = Math.max(1, (denied.retryAfterNanos() + TimeUnit.SECONDS.toNanos(1) - 1)
                    / TimeUnit.SECONDS.toNanos(1));
            return BackendResult.answered(call.exchange()
                    .error(circuitOpen, "the model's backend is failing; retry after " + seconds + "s")
                    .withHeader("Retry-After", Long.toString(seconds)));
        }
    }

    /**
     * A fixed success, as if the backend had answered {@code body} (a JSON object), serialised once.
     *
     * <p>On the proxy path it stands for the backend's own answer, so the client's front treats it as one: the
     * gateway's API puts it in its envelope as {@code data}, a protocol front passes it on as it is. On the inference
     * path a fixed JSON body cannot be a decoded answer to encode in the client's media type, so it goes to the client
     * as it is: in the envelope on the gateway's API (where every answer is enveloped JSON), as bare JSON on the
     * others.
     */
    record StaticResponse(int status, byte[] body, byte[] envelope) implements Fallback {

        /** The dialect of the gateway's own API, as {@link dev.modelgate.spi.Exchange#dialect()} names it. */
        private static final String GATEWAY_DIALECT = "modelgate";
        private static final String JSON = "application/json";

        static StaticResponse of(int status, JsonNode body) {
            ObjectNode envelope = Json.MAPPER.createObjectNode();
            envelope.put("code", 0);
            envelope.put("message", "success");
            envelope.set("data", body);
            try {
                return new StaticResponse(status, Json.MAPPER.writeValueAsBytes(body),
                        Json.MAPPER.writeValueAsBytes(envelope));
            } catch (JsonProcessingException e) {
                throw new UncheckedIOException(e);
            }
        }

        @Override
        public BackendResult answer(BackendCall call, CircuitBreaker.Denied denied) {
            if (call.isProxy()) {
                return BackendResult.forwarded(Response.of(status, JSON, body));
            }
            boolean gatewayApi = GATEWAY_DIALECT.equals(call.exchange().dialect());
            return BackendResult.answered(Response.of(status, JSON, gatewayApi ? envelope : body));
        }
    }

    /**
     * The same request served by another configured backend, as the kernel would serve it there: the answer is in the
     * client's shape already. The configuration makes sure it is not the guarded backend itself.
     */
    record AlternateBackend(String backendName, PluginContext.BackendCall backend) implements Fallback {
        @Override
        public BackendResult answer(BackendCall call, CircuitBreaker.Denied denied) {
            return BackendResult.answered(backend.predict(call.exchange()));
        }
    }
}
