package dev.modelgate.plugins.circuitbreaker;

import dev.modelgate.spi.Backend;
import dev.modelgate.spi.BackendException;
import dev.modelgate.spi.BackendProvider;
import dev.modelgate.spi.ConfigNode;
import dev.modelgate.spi.Exchange;
import dev.modelgate.spi.PluginContext;
import dev.modelgate.spi.inference.InferenceBackend;
import dev.modelgate.spi.inference.InferenceRequest;
import dev.modelgate.spi.inference.InferenceResponse;

/** Test backend {@code unreachable-model}: takes decoded requests (the inference path) and never reaches its model. */
public final class UnreachableModelProvider implements BackendProvider {

    @Override
    public String type() {
        return "unreachable-model";
    }

    @Override
    public Backend create(ConfigNode config, PluginContext context) {
        return new InferenceBackend() {
            @Override
            public InferenceResponse infer(InferenceRequest request, Exchange exchange) throws BackendException {
                throw new BackendException(BackendException.Kind.UNAVAILABLE, "connection refused", null);
            }
        };
    }
}
