package dev.modelgate.plugins.circuitbreaker;

import dev.modelgate.spi.Backend;
import dev.modelgate.spi.BackendProvider;
import dev.modelgate.spi.Body;
import dev.modelgate.spi.ConfigNode;
import dev.modelgate.spi.Exchange;
import dev.modelgate.spi.Headers;
import dev.modelgate.spi.PluginContext;
import dev.modelgate.spi.ProxyBackend;
import dev.modelgate.spi.Response;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Test backend {@code streaming}: a TensorFlow Serving proxy whose 200 answer streams (length unknown) in two chunks,
 * the second never sent when {@code break-midway: true}: the model server went away after the first.
 */
public final class StreamingBackendProvider implements BackendProvider {

    static final String FIRST_CHUNK = "{\"predictions\":[";
    static final String LAST_CHUNK = "[0.5]]}";

    @Override
    public String type() {
        return "streaming";
    }

    @Override
    public Backend create(ConfigNode config, PluginContext context) {
        boolean breakMidway = config.bool("break-midway", false);
        return new ProxyBackend() {
            @Override
            public String dialect() {
                return "tf-serving";
            }

            @Override
            public Response forward(Exchange exchange) {
                return new Response(200, new Headers().set("Content-Type", "application/json"),
                        stream(breakMidway), 0);
            }
        };
    }

    private static Body stream(boolean breakMidway) {
        return new Body() {
            @Override
            public long length() {
                return -1;
            }

            @Override
            public void writeTo(OutputStream out) throws IOException {
                out.write(FIRST_CHUNK.getBytes(StandardCharsets.UTF_8));
                out.flush();
                if (breakMidway) {
                    throw new IOException("the model server closed the connection");
                }
                out.write(LAST_CHUNK.getBytes(StandardCharsets.UTF_8));
            }
        };
    }
}
