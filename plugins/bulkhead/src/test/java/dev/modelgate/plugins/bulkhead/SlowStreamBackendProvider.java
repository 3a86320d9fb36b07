package dev.modelgate.plugins.bulkhead;

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
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Test backend {@code slow-stream}: a TensorFlow Serving proxy that answers at once with a stream (length unknown)
 * whose first chunk it sends at once and whose last it sends only after {@link #finish()}: a model server still
 * generating its answer.
 */
public final class SlowStreamBackendProvider implements BackendProvider {

    static final String FIRST_CHUNK = "{\"predictions\":[";
    static final String LAST_CHUNK = "[0.5]]}";
    private static volatile CountDownLatch finish = new CountDownLatch(1);

    /** Makes streams wait for {@link #finish()} again. */
    static void reset() {
        finish = new CountDownLatch(1);
    }

    /** Lets every stream, started or not, send its last chunk. */
    static void finish() {
        finish.countDown();
    }

    @Override
    public String type() {
        return "slow-stream";
    }

    @Override
    public Backend create(ConfigNode config, PluginContext context) {
        return new ProxyBackend() {
            @Override
            public String dialect() {
                return "tf-serving";
            }

            @Override
            public Response forward(Exchange exchange) {
                return new Response(200, new Headers().set("Content-Type", "application/json"), stream(finish), 0);
            }
        };
    }

    private static Body stream(CountDownLatch until) {
        return new Body() {
            @Override
            public long length() {
                return -1;
            }

            @Override
            public void writeTo(OutputStream out) throws IOException {
                out.write(FIRST_CHUNK.getBytes(StandardCharsets.UTF_8));
                out.flush();
                try {
                    if (!until.await(30, TimeUnit.SECONDS)) {
                        throw new IOException("the test never finished the stream");
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new InterruptedIOException("interrupted mid-stream");
                }
                out.write(LAST_CHUNK.getBytes(StandardCharsets.UTF_8));
            }
        };
    }
}
