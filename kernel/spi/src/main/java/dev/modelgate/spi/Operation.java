package dev.modelgate.spi;

/** What a request asks of the gateway's model API. */
public enum Operation {
    /** {@code GET /v1/models}. */
    LIST_MODELS,
    /** {@code GET /v1/models/{name}}: status and metadata. */
    GET_MODEL,
    /** {@code POST /v1/models/{name}:predict}. */
    PREDICT,
    /** An endpoint of the admin listener beyond the open probes: configuration, plugins, profiling. */
    ADMIN,
    /** A path that names no operation; answered 404 at the end of the pipeline. */
    OTHER
}
