package dev.modelgate.plugins.accesslog;

import com.fasterxml.jackson.core.JsonGenerator;
import dev.modelgate.spi.LlmCall;
import java.io.IOException;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;

/**
 * What the access log records of one request: values only, taken on the request's thread and written later by the
 * writer's thread. Holds no header, so no credential can reach the log.
 *
 * @param bytesIn the request's declared length, or -1 when unknown
 * @param bytesOut the response body's length; for a stream, the bytes written until it ended
 * @param backend the configured backend name, or {@code null} when the request reached none
 * @param model the model named in the path, or {@code null}
 * @param subject who the request authenticated as ({@link dev.modelgate.spi.Principal#subject()}), or {@code null}
 * @param batchSize the requests in the batch this one rode in ({@link dev.modelgate.spi.BackendCall#BATCH_SIZE}), or
 *     {@code null} when it was not batched (the field is then left out)
 * @param llmCall what an LLM backend did ({@link dev.modelgate.spi.LlmCall#ATTRIBUTE}): its upstream, the model it
 *     asked for and the tokens reported, or {@code null} for other requests (the fields are then left out)
 * @param traceId the W3C trace id of the request's {@code traceparent}, or {@code null} when it has none
 */
record AccessLogEntry(
        long epochMillis,
        String requestId,
        String client,
        String method,
        String path,
        int status,
        int code,
        double latencyMillis,
        long bytesIn,
        long bytesOut,
        String backend,
        String model,
        String subject,
        Integer batchSize,
        LlmCall llmCall,
        String traceId) {

    private static final DateTimeFormatter TIME =
            DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSSX").withZone(ZoneOffset.UTC);

    /** The entry's time as the log writes it (UTC, milliseconds). */
    String time() {
        return TIME.format(Instant.ofEpochMilli(epochMillis));
    }

    /**
     * Writes this entry as one JSON object; strings are escaped, so no value can break the line.
     *
     * @param time {@link #time()}, or the same text kept from an entry of the same millisecond
     */
    void writeTo(JsonGenerator json, String time) throws IOException {
        json.writeStartObject();
        json.writeStringField("time", time);
        json.writeStringField("request_id", requestId);
        json.writeStringField("client", client);
        json.writeStringField("method", method);
        json.writeStringField("path", path);
        json.writeNumberField("status", status);
        json.writeNumberField("code", code);
        json.writeNumberField("latency_ms", latencyMillis);
        json.writeNumberField("bytes_in", bytesIn);
        json.writeNumberField("bytes_out", bytesOut);
        json.writeStringField("backend", backend);
        json.writeStringField("model", model);
        json.writeStringField("subject", subject);
        if (traceId != null) {
            json.writeStringField("trace_id", traceId);
        }
        if (batchSize != null) {
            json.writeNumberField("batch_size", batchSize);
        }
        if (llmCall != null) {
            json.writeStringField("upstream", llmCall.upstream());
            json.writeStringField("upstream_model", llmCall.model());
            if (llmCall.promptTokens() >= 0) {
                json.writeNumberField("prompt_tokens", llmCall.promptTokens());
                json.writeNumberField("completion_tokens", llmCall.completionTokens());
            }
        }
        json.writeEndObject();
    }
}
