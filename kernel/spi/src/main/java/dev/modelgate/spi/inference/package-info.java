/**
 * The protocol-neutral inference model every front and backend meets in: tensors with a data type and shape, and the
 * request, response and metadata messages of the Open Inference Protocol (KServe v2), which the other dialects
 * (TensorFlow Serving, the gateway's own API, gRPC) map onto. No server or wire types appear here.
 */
package dev.modelgate.spi.inference;
