package dev.modelgate.plugins.http;

import dev.modelgate.spi.BackendCall;
import dev.modelgate.spi.BackendFilter;
import dev.modelgate.spi.BackendFilterProvider;
import dev.modelgate.spi.ConfigNode;
import dev.modelgate.spi.PluginContext;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** Test filter {@code tensor-probe}: asks for tensors, and records every call it sees. */
public final class TensorProbeFilterProvider implements BackendFilterProvider {

    static final List<BackendCall> SEEN = new CopyOnWriteArrayList<>();

    @Override
    public String type() {
        return "tensor-probe";
    }

    @Override
    public boolean needsTensors() {
        return true;
    }

    @Override
    public BackendFilter create(ConfigNode config, PluginContext context) {
        return (call, chain) -> {
            SEEN.add(call);
            return chain.proceed(call);
        };
    }
}
