package dev.modelgate.spi;

/** What a request asks of the gateway's model API. */
public enum Operation {
    /** {@code GET /v1/models}. */
    LIST_MODELS,
    /** {@code GET /v1/models/{name}}: status and metadata. */
    GET_MODEL,
    /** {@code POST /v1/models/{name}:predict}. */
    PREDICT
}
