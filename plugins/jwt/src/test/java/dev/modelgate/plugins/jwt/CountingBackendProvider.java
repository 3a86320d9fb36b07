package dev.modelgate.plugins.jwt;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.modelgate.spi.Backend;
import dev.modelgate.spi.BackendProvider;
import dev.modelgate.spi.ConfigNode;
import dev.modelgate.spi.Exchange;
import dev.modelgate.spi.Json;
import dev.modelgate.spi.PluginContext;
import dev.modelgate.spi.Principal;
import dev.modelgate.spi.ProxyBackend;
import dev.modelgate.spi.Response;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Test backend {@code counting}: answers {@code {"predictions": <instances>}}, counts its calls and keeps the last
 * call's principal under its configured {@code counter} name, so attack tests can prove that nothing reached it.
 */
public final class CountingBackendProvider implements BackendProvider {

    private record Counter(AtomicInteger calls, AtomicReference<Principal> lastPrincipal) {
    }

    private static final Map<String, Counter> COUNTERS = new ConcurrentHashMap<>();

    /** How many predict calls the backends with counter {@code name} served. */
    static int calls(String name) {
        return counter(name).calls().get();
    }

    /** The principal of the last predict call the backends with counter {@code name} served, or {@code null}. */
    static Principal lastPrincipal(String name) {
        return counter(name).lastPrincipal().get();
    }

    private static Counter counter(String name) {
        return COUNTERS.computeIfAbsent(name, n -> new Counter(new AtomicInteger(), new AtomicReference<>()));
    }

    @Override
    public String type() {
        return "counting";
    }

    @Override
    public Backend create(ConfigNode config, PluginContext context) {
        Counter counter = counter(config.string("counter"));
        return new ProxyBackend() {
            @Override
            public String dialect() {
                return "tf-serving";
            }

            @Override
            public Response forward(Exchange exchange) {
                counter.lastPrincipal().set(exchange.attribute(Principal.ATTRIBUTE));
                counter.calls().incrementAndGet();
                ObjectNode answer = Json.MAPPER.createObjectNode();
                answer.set("predictions", exchange.json().path("instances"));
                return Response.of(200, "application/json", answer.toString().getBytes());
            }
        };
    }
}
