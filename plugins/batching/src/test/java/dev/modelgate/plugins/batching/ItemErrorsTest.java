package dev.modelgate.plugins.batching;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.modelgate.kernel.testing.RunningGateway;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.msgpack.jackson.dataformat.MessagePackFactory;

/**
 * Explicit batches whose items partly fail: a real gateway, an http backend with the batching filter, and a KServe v2
 * stand-in that fails each row whose first value is negative (in its answer's {@code item_errors}) and answers the
 * others. Rows of several clients merged into one call must each come back to their client with their own status.
 */
class ItemErrorsTest {

    private static final Duration WITHIN = Duration.ofSeconds(20);
    private static final ObjectMapper JSON = new ObjectMapper();
    /** A gateway whose backend {@code remote} is the stand-in, behind the batching filter. */
    private static String config(KServeStandIn backend) {
        return BatchingTest.config(backend.url(), "max-batch-size: 16");
    }

    /** The gateway's predict body of rows of two values each, every row {@code [v, v]}. */
    private static String instances(float... rows) {
        StringBuilder body = new StringBuilder("{\"instances\":[");
        for (int i = 0; i < rows.length; i++) {
            body.append(i == 0 ? "" : ",").append('[').append(rows[i]).append(',').append(rows[i]).append(']');
        }
        return body.append("]}").toString();
    }

    private static CompletableFuture<HttpResponse<String>> predict(RunningGateway gateway, ExecutorService clients,
            float... rows) {
        return CompletableFuture.supplyAsync(() -> gateway.post("/v1/models/remote:predict", "application/json",
                instances(rows)), clients);
    }

    private static JsonNode envelope(CompletableFuture<HttpResponse<String>> call) throws Exception {
        HttpResponse<String> response = call.get(WITHIN.toSeconds(), TimeUnit.SECONDS);
        assertEquals(200, response.statusCode(), response::body);
        return JSON.readTree(response.body());
    }

    /** The codes of {@code data.items}, in order. */
    private static List<Integer> itemCodes(JsonNode envelope) {
        return envelope.path("data").path("items").valueStream().map(item -> item.path("code").asInt()).toList();
    }

    @Test
    void theItemsOfMergedRequestsKeepTheirOwnStatusesAndOutputs() throws Exception {
        try (KServeStandIn backend = new KServeStandIn(true, call -> 0, true);
                RunningGateway gateway = RunningGateway.start(config(backend));
                ExecutorService clients = Executors.newVirtualThreadPerTaskExecutor()) {
            CompletableFuture<HttpResponse<String>> first = predict(gateway, clients, 100);
            assertTrue(backend.firstCallArrived.await(WITHIN.toSeconds(), TimeUnit.SECONDS));
            CompletableFuture<HttpResponse<String>> mixed = predict(gateway, clients, 1, -2, 3);
            gateway.awaitMetric("modelgate_batching_queue_depth{backend=\"remote\"} 1", WITHIN);
            CompletableFuture<HttpResponse<String>> allFailed = predict(gateway, clients, -4);
            gateway.awaitMetric("modelgate_batching_queue_depth{backend=\"remote\"} 2", WITHIN);
            CompletableFuture<HttpResponse<String>> allGood = predict(gateway, clients, 5, 6);
            gateway.awaitMetric("modelgate_batching_queue_depth{backend=\"remote\"} 3", WITHIN);

            backend.release.countDown();

            JsonNode mixedAnswer = envelope(mixed);
            assertEquals(0, mixedAnswer.path("code").asInt());
            assertEquals("1 of 3 items failed", mixedAnswer.path("message").asText());
            assertEquals(List.of(0, 40006, 0), itemCodes(mixedAnswer), mixedAnswer::toString);
            assertEquals("backend rejected the request: negative input",
                    mixedAnswer.path("data").path("items").get(1).path("message").asText());
            assertEquals("success", mixedAnswer.path("data").path("items").get(0).path("message").asText());
            assertEquals(10.0, mixedAnswer.path("data").path("predictions").get(0).get(0).asDouble());
            assertEquals(30.0, mixedAnswer.path("data").path("predictions").get(2).get(0).asDouble());

            JsonNode allFailedAnswer = envelope(allFailed);
            assertEquals("1 of 1 item failed", allFailedAnswer.path("message").asText());
            assertEquals(List.of(40006), itemCodes(allFailedAnswer), allFailedAnswer::toString);

            JsonNode allGoodAnswer = envelope(allGood);
            assertEquals("success", allGoodAnswer.path("message").asText());
            assertFalse(allGoodAnswer.path("data").has("items"), "no per-item form when every item succeeded");
            assertEquals(50.0, allGoodAnswer.path("data").path("predictions").get(0).get(0).asDouble());
            assertEquals(60.0, allGoodAnswer.path("data").path("predictions").get(1).get(0).asDouble());
            assertEquals(200, first.get(WITHIN.toSeconds(), TimeUnit.SECONDS).statusCode());
            assertEquals(List.of(1L, 6L), backend.batchRows, "the three clients' six rows rode in one call");
        }
    }

    @Test
    void protocolFrontsWithoutAStatusPerItemFailTheRequestInTheirOwnShape() throws Exception {
        try (KServeStandIn backend = new KServeStandIn(false, call -> 0, true);
                RunningGateway gateway = RunningGateway.start(config(backend))) {
            HttpResponse<String> kserve = gateway.post("/v2/models/remote/infer", "application/json",
                    "{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[2,2],\"data\":[1,1,-2,-2]}]}");
            HttpResponse<String> tfServing = gateway.post("/tfserving/v1/models/remote:predict",
                    "application/json", instances(-1, 2));
            HttpResponse<String> fine = gateway.post("/tfserving/v1/models/remote:predict", "application/json",
                    instances(1, 2));

            assertEquals(400, kserve.statusCode(), kserve::body);
            assertEquals("40006", kserve.headers().firstValue("X-Modelgate-Code").orElse(""));
            assertEquals("backend rejected the request: 1 of 2 items failed; item 1: negative input",
                    JSON.readTree(kserve.body()).path("error").asText());
            assertEquals(400, tfServing.statusCode(), tfServing::body);
            assertEquals("backend rejected the request: 1 of 2 items failed; item 0: negative input",
                    JSON.readTree(tfServing.body()).path("error").asText());
            assertEquals(200, fine.statusCode(), fine::body);
            assertEquals("{\"predictions\":[[10.0,10.0],[20.0,20.0]]}", fine.body());
        }
    }

    @Test
    void theGatewaysMessagePackEnvelopeCarriesTheItemsToo() throws Exception {
        try (KServeStandIn backend = new KServeStandIn(false, call -> 0, true);
                RunningGateway gateway = RunningGateway.start(config(backend))) {
            HttpResponse<byte[]> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    gateway.uri("/v1/models/remote:predict")).header("Content-Type", "application/json")
                    .header("Accept", "application/msgpack").timeout(WITHIN)
                    .POST(HttpRequest.BodyPublishers.ofString(instances(-1, 2))).build(),
                    HttpResponse.BodyHandlers.ofByteArray());

            assertEquals(200, response.statusCode());
            JsonNode envelope = new ObjectMapper(new MessagePackFactory())
                    .readTree(response.body());
            assertEquals("1 of 2 items failed", envelope.path("message").asText(), envelope::toString);
            assertEquals(List.of(40006, 0), itemCodes(envelope), envelope::toString);
            assertEquals(20.0, envelope.path("data").path("predictions").get(1).get(0).asDouble());
        }
    }
}
