package dev.modelgate.spi;

/** What a request asks of the gateway's model API. */
public enum Operation {
    /** {@code GET /v1/models}. */
    LIST_MODELS,
    /** {@code GET /v1/models/{name}}: status and metadata, in any dialect (model ready included). */
    GET_MODEL,
    /** {@code POST /v1/models/{name}:predict}, and every dialect's inference call (infer, classify, regress). */
    PREDICT,
    /** A protocol front's server-level call: health ({@code /v2/health/live}) and server metadata ({@code /v2}). */
    SERVER,
    /** An endpoint of the admin listener beyond the open probes: configuration, plugins, profiling. */
    ADMIN,
    /** A path that names no operation; answered 404 at the end of the pipeline. */
    OTHER
}
