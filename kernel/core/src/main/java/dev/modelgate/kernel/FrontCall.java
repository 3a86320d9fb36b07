package dev.modelgate.kernel;

import dev.modelgate.spi.Operation;

/**
 * What a request asks, as a front read it from the method and path.
 *
 * @param front the front whose grammar matched
 * @param operation the gateway's operation, which middlewares such as {@code authorize} act on
 * @param model the model named, or {@code null}
 * @param modelVersion the model version named in the path, or {@code null}
 * @param verb the call in the dialect's words ({@code predict}, {@code infer}, {@code metadata}, {@code live}, ...)
 * @param method the HTTP method the call takes
 * @param apiVersion the gateway API version ({@code v1}, {@code v2}); protocol fronts reach a model's first route
 *     and leave it {@code null}
 */
record FrontCall(Front front, Operation operation, String model, String modelVersion, String verb, String method,
        String apiVersion) {

    /** A path under {@code front}'s prefix that names no call. */
    static FrontCall nothing(Front front) {
        return new FrontCall(front, Operation.OTHER, null, null, null, null, null);
    }
}
