package dev.modelgate.spi.admin;

import dev.modelgate.spi.Response;

/** One path of the admin listener that a plugin answers. */
@FunctionalInterface
public interface AdminEndpoint {

    /**
     * Answers {@code request}, on a virtual thread of its own: it may block (a recording of some seconds). A
     * rejection is {@link AdminRequest#error}, or a thrown {@link dev.modelgate.spi.RejectionException}, with a code
     * the provider declares; anything else thrown is answered 500 (code 90001), the stack trace going to the log
     * only.
     */
    Response handle(AdminRequest request) throws Exception;
}
