package dev.modelgate.plugins.pool;

import dev.modelgate.spi.BackendException;
import dev.modelgate.spi.Exchange;
import dev.modelgate.spi.ProxyBackend;
import dev.modelgate.spi.Response;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;

/**
 * A remote backend whose real call is {@link #forwardAsync}, over the kernel's upstream pools: {@link #forward} is
 * the same call, waited for on the caller's (virtual) thread.
 */
public interface AsyncProxyBackend extends ProxyBackend {

    @Override
    default boolean forwardsAsync() {
        return true;
    }

    /** The answer of {@link #forwardAsync}, waited for. */
    @Override
    default Response forward(Exchange exchange) throws BackendException {
        return await(forwardAsync(exchange));
    }

    /**
     * The answer, or its failure as the {@link BackendException} or {@link dev.modelgate.spi.RejectionException} it
     * completed with.
     */
    static Response await(CompletionStage<Response> answer) throws BackendException {
        try {
            return answer.toCompletableFuture().join();
        } catch (CompletionException e) {
            if (e.getCause() instanceof BackendException failure) {
                throw failure;
            }
            if (e.getCause() instanceof RuntimeException failure) {
                throw failure;
            }
            throw e;
        }
    }
}
