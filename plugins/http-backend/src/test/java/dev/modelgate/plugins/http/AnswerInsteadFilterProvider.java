package dev.modelgate.plugins.http;

import dev.modelgate.spi.BackendFilter;
import dev.modelgate.spi.BackendFilterProvider;
import dev.modelgate.spi.BackendResult;
import dev.modelgate.spi.ConfigNode;
import dev.modelgate.spi.PluginContext;
import dev.modelgate.spi.Response;
import java.nio.charset.StandardCharsets;

/**
 * The test filter {@code answer-instead}: calls the backend, then drops its answer unread and answers {@code {}}
 * itself, as a fallback would. What the backend streamed must still be released.
 */
public final class AnswerInsteadFilterProvider implements BackendFilterProvider {

    @Override
    public String type() {
        return "answer-instead";
    }

    @Override
    public BackendFilter create(ConfigNode config, PluginContext context) {
        return (call, chain) -> {
            chain.proceed(call);
            return BackendResult.answered(Response.of(200, "application/json",
                    "{}".getBytes(StandardCharsets.UTF_8)));
        };
    }
}
