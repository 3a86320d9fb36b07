package dev.modelgate.plugins.circuitbreaker;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.modelgate.spi.ErrorCode;
import dev.modelgate.spi.Exchange;
import dev.modelgate.spi.Json;
import dev.modelgate.spi.PluginContext;
import dev.modelgate.spi.Response;
import java.io.UncheckedIOException;
import java.util.concurrent.TimeUnit;

/** What a request gets instead of a call to a backend whose circuit does not permit one. Immutable, thread-safe. */
sealed interface Fallback {

    /** Answers {@code exchange}, whose backend {@code backend} refused the call as {@code denied} says. */
    Response answer(Exchange exchange, String backend, CircuitBreaker.Denied denied);

    /** No fallback: 503 with the circuit-open code and {@code Retry-After}, the seconds until a call may go through. */
    record Reject(ErrorCode circuitOpen) implements Fallback {
        @Override
        public Response answer(Exchange exchange, String backend, CircuitBreaker.Denied denied) {
            // Rounded up, and at least 1: "Retry-After: 0" invites a client to hammer a circuit about to half-open.
            long seconds = Math.max(1, (denied.retryAfterNanos() + TimeUnit.SECONDS.toNanos(1) - 1)
                    / TimeUnit.SECONDS.toNanos(1));
            return exchange.error(circuitOpen, "the model's backend is failing; retry after " + seconds + "s")
                    .withHeader("Retry-After", Long.toString(seconds));
        }
    }

    /**
     * A fixed success, as if the backend had answered {@code body}: the gateway's envelope with code 0 and the
     * configured body as {@code data}, built once.
     */
    record StaticResponse(int status, byte[] envelope) implements Fallback {

        static StaticResponse of(int status, JsonNode body) {
            ObjectNode envelope = Json.MAPPER.createObjectNode();
            envelope.put("code", 0);
            envelope.put("message", "success");
            envelope.set("data", body);
            try {
                return new StaticResponse(status, Json.MAPPER.writeValueAsBytes(envelope));
            } catch (JsonProcessingException e) {
                throw new UncheckedIOException(e);
            }
        }

        @Override
        public Response answer(Exchange exchange, String backend, CircuitBreaker.Denied denied) {
            return Response.of(status, "application/json", envelope);
        }
    }

    /**
     * The same request served by another configured backend, as the kernel would serve it there. A backend cannot be
     * its own fallback: a request for {@code backendName} itself gets {@code otherwise}.
     */
    record AlternateBackend(String backendName, PluginContext.BackendCall call, Fallback otherwise)
            implements Fallback {
        @Override
        public Response answer(Exchange exchange, String backend, CircuitBreaker.Denied denied) {
            return backend.equals(backendName) ? otherwise.answer(exchange, backend, denied) : call.predict(exchange);
        }
    }
}
