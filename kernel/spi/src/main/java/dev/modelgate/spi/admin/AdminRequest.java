package dev.modelgate.spi.admin;

import dev.modelgate.spi.ErrorCode;
import dev.modelgate.spi.Response;

/** An admin request that passed the admin's authentication, as an {@link AdminEndpoint} sees it. */
public interface AdminRequest {

    /** The path, without the query: {@code /debug/pprof/profile}. */
    String path();

    /** The first value of the query parameter {@code name}, percent-decoded, or {@code null} when absent. */
    String parameter(String name);

    /** The answer for {@code errorCode}, in the admin listener's shape (the gateway's envelope). */
    Response error(ErrorCode errorCode, String detail);
}
