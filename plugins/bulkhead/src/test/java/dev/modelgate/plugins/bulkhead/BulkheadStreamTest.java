package dev.modelgate.plugins.bulkhead;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.modelgate.kernel.fixtures.StreamingBackendProvider;
import dev.modelgate.kernel.testing.RunningGateway;
import java.io.InputStream;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A streamed answer through a real gateway's TensorFlow Serving front, which passes it on as it comes: the bulkhead
 * place is the stream's until its last byte, long after the backend's headers arrived.
 */
class BulkheadStreamTest {

    private static final String PREDICT_BODY = "{\"instances\":[[1.0]]}";
    private static final Duration DEADLINE = Duration.ofSeconds(10);
    private static final HttpClient CLIENT = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    private RunningGateway gateway;

    @BeforeEach
    void startWithOnePlace() throws Exception {
        StreamingBackendProvider.reset();
        gateway = RunningGateway.start("""
                backends:
                  stream:
                    type: streaming
                    hold: true
                    filters:
                      - type: bulkhead
                        max-concurrent-calls: 1
                routes:
                  - model: stream
                    backend: stream
                """);
    }

    /** Finished first, so that the gateway does not wait for a stream to drain when it stops. */
    @AfterEach
    void finishEveryStreamAndStop() throws Exception {
        StreamingBackendProvider.finish();
        gateway.close();
    }

    @Test
    void aStreamedAnswerHoldsItsPlaceUntilItsLastByte() throws Exception {
        HttpRequest streamed = HttpRequest.newBuilder(gateway.uri("/tfserving/v1/models/stream:predict"))
                .header("Content-Type", "application/json").timeout(DEADLINE)
                .POST(HttpRequest.BodyPublishers.ofString(PREDICT_BODY)).build();
        HttpResponse<InputStream> first = CLIENT.send(streamed, HttpResponse.BodyHandlers.ofInputStream());
        try (InputStream stream = first.body()) {
            String firstChunk = new String(stream.readNBytes(StreamingBackendProvider.FIRST_CHUNK.length()),
                    StandardCharsets.UTF_8);
            assertEquals(StreamingBackendProvider.FIRST_CHUNK, firstChunk, "the stream is under way");

            HttpResponse<String> refused = gateway.post("/v1/models/stream:predict", "application/json",
                    PREDICT_BODY);

            assertEquals(503, refused.statusCode(), refused.body());
            assertTrue(refused.body().contains("\"code\":30301"), refused.body());
            gateway.assertMetric("modelgate_bulkhead_in_flight{backend=\"stream\"} 1");

            StreamingBackendProvider.finish();

            assertEquals(StreamingBackendProvider.LAST_CHUNK, new String(stream.readAllBytes(),
                    StandardCharsets.UTF_8));
        }
        gateway.awaitMetric("modelgate_bulkhead_in_flight{backend=\"stream\"} 0", DEADLINE);
        HttpResponse<String> next = gateway.post("/v1/models/stream:predict", "application/json", PREDICT_BODY);
        assertEquals(200, next.statusCode(), next.body());
    }
}
